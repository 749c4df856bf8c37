"""The whole web side as one ASGI app: the FastAPI routes and the Socket.IO endpoint
(`/socket.io`), with start and stop for the parts that run in the background."""

from __future__ import annotations

import socketio
import uvicorn
from starlette.types import ASGIApp

from shared.settings import Settings

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
        self.api.state.buffering = self.realtime.buffering_in  # for members in /api/rooms/{id}
        # Socket.IO answers /socket.io itself (it has its own per-connection limits); everything
        # else goes to FastAPI.
        self.asgi: ASGIApp = socketio.ASGIApp(self.realtime.sio, other_asgi_app=self.api)

    async def start(self) -> None:
        await self.realtime.start()

    async def stop(self) -> None:
        await self.realtime.stop()


def server_config(app: ASGIApp, settings: Settings) -> uvicorn.Config:
    """How uvicorn serves Lockstep, in production and in the tests alike."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="none",  # the caller already runs uvloop
        http="httptools",
        log_level=settings.log_level.lower(),
        # A line per request (every audio range, cover, ping) drowns the log at INFO: DEBUG only.
        access_log=settings.log_level == "DEBUG",
        timeout_keep_alive=5,
        lifespan="off",  # start-up and shutdown are the entry point's, around serve()
        proxy_headers=True,
        ws_per_message_deflate=settings.ws_per_message_deflate,
        ws_max_size=256 * 1024,  # Socket.IO itself caps messages at 64 KiB
        ws_ping_interval=None,  # engine.io already pings every 25 s; twice is wasted work
    )
