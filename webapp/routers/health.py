"""GET /health: for uptime checks. 200 when healthy, 503 when the database or library is not."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ..deps import Context
from ..errors import OTHER_ERRORS

router = APIRouter(tags=["health"])


def _iso(wall: float | None) -> str | None:
    return None if wall is None else datetime.fromtimestamp(wall, UTC).isoformat()


@router.get(
    "/health",
    summary="Service health for uptime checks",
    responses={503: {"description": "The database or the library is not working"}, **OTHER_ERRORS},
)
async def health(context: Context) -> JSONResponse:
    service, catalog = context.service, context.catalog
    database = await context.store.check()
    library = await catalog.healthy()
    status = await catalog.status() if library else None
    healthy = database and library
    body: dict[str, Any] = {
        "status": "healthy" if healthy else "unhealthy",
        "timestamp": datetime.now(UTC).isoformat(),
        "active_rooms": len(service.rooms()),
        "connected_users": service.connected_users,
        "version": context.version,
        "uptime": round(time.monotonic() - context.started_at, 3),
        "database": database,
        "library": {
            "ok": library,
            "tracks": status.tracks if status else None,
            "scanning": status.scanning if status else None,
            "demo": status.demo if status else None,
            "last_scan": _iso(status.last_scan_at) if status else None,
        },
        "bot": {
            "enabled": context.settings.discord_token is not None,
            "connected": context.bot_connected,
        },
    }
    return JSONResponse(body, status_code=200 if healthy else 503)
