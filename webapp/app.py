"""Builds the FastAPI application around an AppContext."""

from __future__ import annotations

from fastapi import FastAPI

from .context import AppContext
from .routers import health, rooms


def create_app(context: AppContext) -> FastAPI:
    app = FastAPI(title="Lockstep", version=context.version)
    app.state.context = context
    app.include_router(health.router)
    app.include_router(rooms.router)
    return app
