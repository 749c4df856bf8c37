"""The whole web side as one ASGI app: the FastAPI routes and the Socket.IO endpoint
(`/socket.io`), with start and stop for the parts that run in the background."""

from __future__ import annotations

import socketio
from starlette.types import ASGIApp

from .app import create_app
from .context import AppContext
from .metrics import Metrics
from .realtime import Realtime
from .tokens import Tokens


class WebServer:
    def __init__(self, context: AppContext) -> None:
        self.context = context
        self.metrics = Metrics()
        self.tokens = Tokens(context.settings.secret())
        self.api = create_app(context, self.metrics)
        self.realtime = Realtime(context, self.metrics, self.tokens)
        # Socket.IO answers /socket.io itself (it has its own per-connection limits); everything
        # else goes to FastAPI.
        self.asgi: ASGIApp = socketio.ASGIApp(self.realtime.sio, other_asgi_app=self.api)

    async def start(self) -> None:
        await self.realtime.start()

    async def stop(self) -> None:
        await self.realtime.stop()
