"""The web server: FastAPI routers and (later) the Socket.IO adapter over the RoomService."""

from .app import create_app
from .context import AppContext

__all__ = ["AppContext", "create_app"]
