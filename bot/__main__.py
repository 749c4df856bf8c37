"""`python -m bot`: the Discord bot on its own, without the web server."""

from bot.standalone import main

raise SystemExit(main())
