"""Rooms, read-only: the public list (the prototype's GET /rooms) and one room's full state."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..deps import Context
from ..errors import ERROR_SCHEMA, OTHER_ERRORS
from ..views import room_state, room_summary

router = APIRouter(tags=["rooms"])


@router.get(
    "/rooms",
    summary="Public rooms with listener counts and what is playing",
    responses=OTHER_ERRORS,
)
async def list_rooms(context: Context) -> dict[str, Any]:
    now = context.service.now()
    available = context.catalog.available
    rooms = [room_summary(r, now, available) for r in context.service.rooms() if not r.private]
    return {"rooms": rooms}


@router.get(
    "/api/rooms/{room_id}",
    summary="One room's full state",
    response_model=None,
    responses={404: {**ERROR_SCHEMA, "description": "No such public room"}, **OTHER_ERRORS},
)
async def get_room(
    room_id: str, request: Request, context: Context
) -> dict[str, Any] | JSONResponse:
    room = context.service.get(room_id)
    if room is None or room.private:
        return JSONResponse({"error": "not_found", "detail": "no such room"}, status_code=404)
    buffering = getattr(request.app.state, "buffering", None)  # set by the Socket.IO hub
    return room_state(
        room,
        context.service.now(),
        context.catalog.available,
        buffering(room_id) if buffering else frozenset(),
    )
