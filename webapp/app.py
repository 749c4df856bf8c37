"""Builds the FastAPI application around an AppContext."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from .context import AppContext
from .errors import install_error_handlers
from .metrics import Metrics
from .middleware import RateLimitMiddleware
from .routers import health, legacy, metrics, player, rooms, tracks

DESCRIPTION = """Lockstep serves a music folder to rooms of listeners who hear the same moment of
the same track. This is the HTTP API; the real-time room protocol (Socket.IO at `/socket.io`) is
described in docs/protocol.md. Errors are JSON `{"error": code, "detail": text}`."""


def create_app(context: AppContext, registry: Metrics | None = None) -> FastAPI:
    app = FastAPI(title="Lockstep", version=context.version, description=DESCRIPTION)
    app.state.context = context
    app.state.metrics = registry or Metrics()
    install_error_handlers(app)
    # Same-origin pages need no CORS; other sites only when listed in CORS_ORIGINS.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=context.settings.cors_origins,
        allow_methods=["GET", "HEAD", "OPTIONS"],
        allow_headers=[
            "Range",
            "If-Range",
            "If-None-Match",
            "If-Modified-Since",
            "If-Match",
            "If-Unmodified-Since",
        ],
        expose_headers=[
            "Content-Range",
            "Accept-Ranges",
            "Content-Length",
            "ETag",
            "Last-Modified",
            "Cache-Control",
        ],
        max_age=600,
    )
    # Added last, so it runs first: a flood is refused before any other work.
    app.add_middleware(
        RateLimitMiddleware, limit=context.settings.http_rate_limit, metrics=app.state.metrics
    )
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(rooms.router)
    app.include_router(tracks.router)
    app.include_router(legacy.router)
    app.include_router(player.router)
    return app
