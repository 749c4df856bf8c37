"""The web server: FastAPI routers and the Socket.IO adapter over the RoomService."""

from .app import create_app
from .context import AppContext
from .server import WebServer

__all__ = ["AppContext", "WebServer", "create_app"]
