"""The Discord bot: slash commands, the now-playing message and its buttons.

It drives rooms only through `shared.service.RoomService`, like the web app.
"""

from .client import EXTENSIONS, LockstepBot
from .context import BotContext

__all__ = ["EXTENSIONS", "BotContext", "LockstepBot"]
