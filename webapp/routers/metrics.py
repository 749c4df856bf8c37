"""GET /metrics: Prometheus text format."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..deps import Context
from ..errors import OTHER_ERRORS
from ..metrics import Metrics

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Metrics, text format"},
        **OTHER_ERRORS,
    },
)
async def metrics(request: Request, context: Context) -> Response:
    registry: Metrics = request.app.state.metrics
    status = await context.catalog.status()
    registry.library_tracks.set(status.tracks)
    if status.last_scan is not None:
        registry.scan_seconds.set(status.last_scan.seconds)
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
