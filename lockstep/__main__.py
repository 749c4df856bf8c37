import sys

from lockstep.main import main

sys.exit(main())
