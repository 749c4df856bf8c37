"""The Socket.IO side of the web server: a thin adapter between connections and the RoomService.

No room logic lives here. A handler validates the payload, checks the connection's rate limits,
turns the request into a core command, and hands it to the service, which decides. Room events
come back from the service to the Announcer (announcer.py), which broadcasts them in order. The
protocol is written down in docs/protocol.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import socketio
from pydantic import ValidationError

from shared.core import (
    Actor,
    ControlMode,
    DomainError,
    Event,
    Join,
    Leave,
    Policy,
    QueueChanged,
    Room,
    SetPolicy,
    SetRole,
    playback_lead,
)

from ..context import AppContext
from ..metrics import Metrics
from ..throttle import Throttle
from ..tokens import Tokens
from ..views import room_state, room_summary
from . import payloads as p
from .announcer import LOBBY, Announcer
from .broadcast import BroadcastManager, lighten
from .origins import OriginCheck
from .rooms import new_room_id
from .translate import control_command, enqueue_position, queue_command

log = logging.getLogger("lockstep.realtime")

MAX_PAYLOAD = 64 * 1024  # bytes in one Socket.IO message; the biggest legitimate one is ~25 KB

# Per-connection limits, by kind of event (limits syntax). Generous for people, tight for scripts:
# a join makes a burst of 16 clock pings; a seek-bar drag is debounced by the player.
EVENT_LIMITS = {
    "any": "40/second",
    "ping": "20/second;240/minute",
    "join": "5/second;30/minute",
    "control": "10/second;120/minute",
    "queue": "10/second;120/minute",
    "read": "10/second;200/minute",
    "status": "5/second;120/minute",  # the player sends listener_status at most twice a second
}
# A connection refused this often is flooding, and is disconnected.
FLOOD = "20/10 seconds"


class ProtocolError(Exception):
    """A request refused by the adapter itself (not by the room): sent back as an error ack."""

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.code, self.detail, self.extra = code, detail, extra


@dataclass(slots=True)
class Connection:
    sid: str
    address: str
    user_id: str | None = None
    name: str = ""
    room_id: str | None = None
    rtt: float | None = None
    watching: bool = True  # gets `rooms_update`


P = TypeVar("P", bound=p.Payload)
Handler = Callable[[Connection, P], Awaitable[dict[str, Any]]]


class Realtime:
    def __init__(self, context: AppContext, metrics: Metrics, tokens: Tokens) -> None:
        self.context = context
        self.service = context.service
        self.metrics = metrics
        self.tokens = tokens
        settings = context.settings
        self.sio = socketio.AsyncServer(
            async_mode="asgi",
            client_manager=BroadcastManager(),
            cors_allowed_origins=OriginCheck(settings.cors_origins, settings.base_url),
            ping_interval=25,
            ping_timeout=20,
            max_http_buffer_size=MAX_PAYLOAD,
            logger=False,
            engineio_logger=False,
        )
        self._throttle = Throttle(
            {**EVENT_LIMITS, "connect": settings.connect_rate_limit, "flood": FLOOD}
        )
        self._conns: dict[str, Connection] = {}
        self._in_room: dict[str, set[str]] = defaultdict(set)  # room id -> sids
        self._present: dict[tuple[str, str], set[str]] = {}  # (room, user) -> sids
        self._leaving: dict[tuple[str, str], asyncio.TimerHandle] = {}
        # room -> user -> the member's connections whose player says it is buffering. Ephemeral
        # and per connection: a tab that drops stops counting, whatever it last said.
        self._buffering: dict[str, dict[str, set[str]]] = {}
        self.available = context.catalog.available
        self.announcer = Announcer(
            self.sio,
            self.service,
            metrics,
            self._public_rooms,
            self.available,
            self.buffering_in,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._unsubscribe: Callable[[], None] | None = None
        self._register()

    # -- life cycle --------------------------------------------------------------------------
    async def start(self) -> None:
        self._unsubscribe = self.service.subscribe(self.announcer.notify)
        self.context.catalog.on_change(self.announcer.library_changed)
        self.service.set_lead(self.lead)
        self.announcer.start()
        self.metrics.follow(
            clients=lambda: len(self._conns),
            rooms=lambda: len(self.service.rooms()),
            members=lambda: self.service.connected_users,
        )

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        for handle in self._leaving.values():
            handle.cancel()
        self._leaving.clear()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.announcer.stop()

    @property
    def connections(self) -> int:
        return len(self._conns)

    def lead(self, room_id: str) -> float:
        """How far ahead playback changes in `room_id` are scheduled (see shared/core/lead.py)."""
        sids = self._in_room.get(room_id, ())
        rtts = [c.rtt for s in sids if (c := self._conns.get(s)) and c.rtt is not None]
        return playback_lead(rtts, listeners=len(sids))

    # -- plumbing ----------------------------------------------------------------------------
    def _register(self) -> None:
        sio = self.sio
        sio.on("connect", self._connect)
        sio.on("disconnect", self._disconnect)
        self._on("join_room", "join", p.JoinRoom, self._join_room)
        self._on("leave_room", "join", p.InRoom, self._leave_room)
        self._on("create_room", "join", p.CreateRoom, self._create_room)
        self._on("control", "control", p.Control, self._control)
        self._on("queue", "queue", p.QueueOp, self._queue)
        self._on("set_role", "control", p.SetRole, self._set_role)
        self._on("set_policy", "control", p.SetPolicy, self._set_policy)
        self._on("sync_request", "read", p.InRoom, self._sync_request)
        self._on("rooms", "read", p.Empty, self._rooms)
        self._on("watch_rooms", "read", p.WatchRooms, self._watch_rooms)
        self._on("invite", "read", p.InRoom, self._invite)
        self._on("time_ping", "ping", p.TimePing, self._time_ping)
        self._on("listener_status", "status", p.ListenerStatus, self._listener_status)
        sio.on("*", self._unknown)

    def _on(self, event: str, bucket: str, model: type[P], handler: Handler[P]) -> None:
        async def handle(sid: str, *args: Any) -> dict[str, Any]:
            received = self.service.now()
            conn = self._conns.get(sid)
            if conn is None:
                return _error("not_connected", "connect first")
            try:
                self._check_rate(conn, bucket)
                if len(args) > 1:
                    raise ProtocolError("invalid_argument", "send one object")
                payload = _parse(model, args[0] if args else None)
                reply = await handler(conn, payload)
            except ProtocolError as exc:
                self.metrics.commands.labels(event, exc.code).inc()
                if exc.code in ("rate_limited", "invalid_argument"):
                    await self._strike(conn)
                return _error(exc.code, exc.detail, **exc.extra)
            except DomainError as exc:
                self.metrics.commands.labels(event, exc.code.value).inc()
                return _error(exc.code.value, exc.message)
            except Exception:
                log.exception("%s from %s failed", event, sid)
                self.metrics.commands.labels(event, "internal").inc()
                return _error("internal", "the server failed to handle this; try again")
            self.metrics.commands.labels(event, "ok").inc()
            if event == "time_ping":
                reply["t1"] = received
                reply["t2"] = self.service.now()
            return {"ok": True, **reply}

        self.sio.on(event, handle)

    def _check_rate(self, conn: Connection, bucket: str) -> None:
        for name in ("any", bucket):
            retry = self._throttle.hit(name, conn.sid)
            if retry is not None:
                self.metrics.throttled.labels("socket").inc()
                raise ProtocolError(
                    "rate_limited", f"too many requests; wait {retry:g} s", retry_after=retry
                )

    async def _strike(self, conn: Connection) -> None:
        if self._throttle.hit("flood", conn.sid) is not None and conn.sid in self._conns:
            log.warning("disconnecting %s (%s): flooding", conn.sid, conn.address)
            self.metrics.flood_disconnects.inc()
            notice = {"error": "flooding", "detail": "too many refused requests: disconnected"}
            await self.sio.emit("kicked", notice, to=conn.sid)  # so the client can say why
            await self.sio.disconnect(conn.sid)

    async def _unknown(self, event: str, sid: str, *args: Any) -> dict[str, Any]:
        conn = self._conns.get(sid)
        if conn is None:
            return _error("not_connected", "connect first")
        try:
            self._check_rate(conn, "read")
        except ProtocolError as exc:
            await self._strike(conn)
            return _error(exc.code, exc.detail, **exc.extra)
        self.metrics.commands.labels("unknown", "unknown_event").inc()
        await self._strike(conn)
        return _error("unknown_event", f"there is no event {event[:40]!r}; see docs/protocol.md")

    # -- connections -------------------------------------------------------------------------
    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        client = environ.get("asgi.scope", {}).get("client") or ("unknown", 0)
        address = str(client[0])
        if self._throttle.hit("connect", address) is not None:
            self.metrics.throttled.labels("connect").inc()
            raise socketio.exceptions.ConnectionRefusedError(
                {"error": "rate_limited", "detail": "too many connections; try again shortly"}
            )
        self._conns[sid] = Connection(sid, address)
        lighten(self.sio.eio.sockets.get(self.sio.manager.eio_sid_from_sid(sid, "/")))
        await self.sio.enter_room(sid, LOBBY)

    async def _disconnect(self, sid: str, reason: Any = None) -> None:
        conn = self._conns.pop(sid, None)
        if conn is not None and conn.room_id is not None:
            # Not a Leave yet: a page reload or a network blip must not hand the host role away.
            await self._depart(conn, immediately=False)

    async def _depart(self, conn: Connection, *, immediately: bool) -> None:
        room_id, user_id = conn.room_id, conn.user_id
        if room_id is None or user_id is None:
            return
        conn.room_id = None
        self._set_buffering(room_id, user_id, conn.sid, False)
        self._in_room[room_id].discard(conn.sid)
        if not self._in_room[room_id]:
            del self._in_room[room_id]
        if conn.sid in self._conns:
            await self.sio.leave_room(conn.sid, room_id)
            await self.sio.enter_room(conn.sid, LOBBY)
            conn.watching = True
        key = (room_id, user_id)
        sids = self._present.get(key, set())
        sids.discard(conn.sid)
        if sids:
            return  # the same listener is still here in another tab
        self._present.pop(key, None)
        actor = Actor(user_id, conn.name)
        if immediately:
            await self._apply_leave(room_id, actor)
            return
        loop = asyncio.get_running_loop()
        grace = self.context.settings.reconnect_grace
        self._leaving[key] = loop.call_later(grace, self._grace_over, key, actor)

    def _grace_over(self, key: tuple[str, str], actor: Actor) -> None:
        self._leaving.pop(key, None)
        if key not in self._present:
            task = asyncio.get_running_loop().create_task(self._apply_leave(key[0], actor))
            self._tasks.append(task)
            task.add_done_callback(self._forget_task)

    def _forget_task(self, task: asyncio.Task[None]) -> None:
        if task in self._tasks:
            self._tasks.remove(task)

    async def _apply_leave(self, room_id: str, actor: Actor) -> None:
        if self.service.get(room_id) is None:
            return
        try:
            await self.service.apply(room_id, Leave(by=actor))
        except Exception:
            log.exception("room %s: %s could not leave", room_id, actor.id)

    def _actor(self, conn: Connection, req: p.InRoom) -> tuple[str, Actor]:
        if conn.room_id is None or conn.user_id is None:
            raise ProtocolError("not_joined", "join a room first")
        if req.room is not None and req.room != conn.room_id:
            raise ProtocolError("not_joined", f"you are not in room {req.room!r}")
        return conn.room_id, Actor(conn.user_id, conn.name)

    # -- rooms and presence ------------------------------------------------------------------
    async def _join_room(self, conn: Connection, req: p.JoinRoom) -> dict[str, Any]:
        user_id = self.tokens.user_of(req.session) or conn.user_id or self.tokens.new_user_id()
        actor = Actor(user_id, req.name)  # checks the display name (DomainError if unusable)
        room = self.service.get(req.room)
        if room is None:
            if req.token is not None:
                raise ProtocolError("not_found", "this room has closed; ask for a new invite")
            room = await self.service.open_room(req.room, req.room_name or req.room)
        elif room.private and not self._may_enter(room.id, user_id, req.token):
            if req.token is None:
                raise ProtocolError(
                    "forbidden", "this room is private: open it with an invite link"
                )
            raise ProtocolError("forbidden", "this invite link is not valid for this room")
        if conn.room_id is not None and (conn.room_id, conn.user_id) != (room.id, user_id):
            await self._depart(conn, immediately=True)
        key = (room.id, user_id)
        pending = self._leaving.pop(key, None)
        if pending is not None:
            pending.cancel()  # back within the grace period: still a member, role and all
        conn.user_id, conn.name, conn.room_id = user_id, actor.name, room.id
        self._present.setdefault(key, set()).add(conn.sid)
        self._in_room[room.id].add(conn.sid)
        # Enter the broadcast room before joining, so no update after the snapshot is missed.
        await self.sio.enter_room(conn.sid, room.id)
        if conn.watching:
            await self.sio.leave_room(conn.sid, LOBBY)
            conn.watching = False
        try:
            room, _ = await self.service.apply(room.id, Join(by=actor))
        except BaseException:
            await self._depart(conn, immediately=False)
            raise
        member = room.member(user_id)
        return {
            "room": self._state(room),
            "you": {
                "id": user_id,
                "name": member.name if member else actor.name,
                "role": room.role_of(user_id).value,
            },
            "session": self.tokens.session(user_id),
            "invite": self._invite_url(room.id, room.private),
        }

    def _may_enter(self, room_id: str, user_id: str, token: str | None) -> bool:
        if token is not None and self.tokens.invites_to(token, room_id):
            return True
        # A member reconnecting within the grace period (or from a second tab) is already in.
        room = self.service.get(room_id)
        return room is not None and room.member(user_id) is not None

    async def _leave_room(self, conn: Connection, req: p.InRoom) -> dict[str, Any]:
        self._actor(conn, req)
        await self._depart(conn, immediately=True)
        return {}

    async def _create_room(self, conn: Connection, req: p.CreateRoom) -> dict[str, Any]:
        if req.id is not None:
            if self.service.get(req.id) is not None:
                raise ProtocolError("already_exists", f"there is already a room {req.id!r}")
            room_id = req.id
        else:
            room_id = new_room_id(req.name, req.private, exists=self.service.get)
        room = await self.service.open_room(room_id, req.name, private=req.private)
        return {
            "room": room.id,
            "name": room.name,
            "private": room.private,
            "token": self.tokens.invite(room.id) if room.private else None,
            "invite": self._invite_url(room.id, room.private),
        }

    def _invite_url(self, room_id: str, private: bool) -> str:
        url = f"{self.context.settings.base_url}/r/{quote(room_id)}"
        return f"{url}?invite={self.tokens.invite(room_id)}" if private else url

    async def _invite(self, conn: Connection, req: p.InRoom) -> dict[str, Any]:
        room_id, _ = self._actor(conn, req)
        room = self.service.require(room_id)
        return {
            "url": self._invite_url(room_id, room.private),
            "token": self.tokens.invite(room_id) if room.private else None,
        }

    async def _sync_request(self, conn: Connection, req: p.InRoom) -> dict[str, Any]:
        room_id, _ = self._actor(conn, req)
        state = self._state(self.service.require(room_id))
        await self.sio.emit("room_state", state, to=conn.sid)  # for clients that listen, not ack
        return {"room": state}

    async def _rooms(self, conn: Connection, req: p.Empty) -> dict[str, Any]:
        return {"rooms": self._public_rooms()}

    async def _watch_rooms(self, conn: Connection, req: p.WatchRooms) -> dict[str, Any]:
        if req.on and not conn.watching:
            await self.sio.enter_room(conn.sid, LOBBY)
        elif not req.on and conn.watching:
            await self.sio.leave_room(conn.sid, LOBBY)
        conn.watching = req.on
        return {"rooms": self._public_rooms()} if req.on else {}

    def _public_rooms(self) -> list[dict[str, Any]]:
        now = self.service.now()
        available = self.available
        return [room_summary(r, now, available) for r in self.service.rooms() if not r.private]

    # -- playback, queue, settings -----------------------------------------------------------
    async def _control(self, conn: Connection, req: p.Control) -> dict[str, Any]:
        room_id, actor = self._actor(conn, req)
        room, events = await self.service.apply(room_id, control_command(req, actor))
        return _applied(room.version, room.clock.anchor, events)

    async def _queue(self, conn: Connection, req: p.QueueOp) -> dict[str, Any]:
        room_id, actor = self._actor(conn, req)
        if req.action == "add":
            assert req.track_ids is not None  # checked by the payload model
            at = enqueue_position(req.at)
            room, events = await self.service.enqueue(room_id, actor, req.track_ids, at)
            added = [
                entry.id
                for event in events
                if isinstance(event, QueueChanged) and event.action == "add"
                for entry in event.entries
            ]
            return {**_applied(room.version, room.clock.anchor, events), "entries": added}
        if req.action == "shuffle":
            room, events = await self.service.shuffle(room_id, actor)
        else:
            room, events = await self.service.apply(room_id, queue_command(req, actor))
        return _applied(room.version, room.clock.anchor, events)

    async def _set_role(self, conn: Connection, req: p.SetRole) -> dict[str, Any]:
        room_id, actor = self._actor(conn, req)
        room, events = await self.service.apply(
            room_id, SetRole(by=actor, user_id=req.user_id, role=req.role)
        )
        return {"version": room.version, "changed": bool(events)}

    async def _set_policy(self, conn: Connection, req: p.SetPolicy) -> dict[str, Any]:
        room_id, actor = self._actor(conn, req)
        old = self.service.require(room_id).policy
        policy = Policy(
            control=ControlMode(req.control) if req.control is not None else old.control,
            listeners_can_queue=_pick(req.listeners_can_queue, old.listeners_can_queue),
            autoplay=_pick(req.autoplay, old.autoplay),
            max_queue=_pick(req.max_queue, old.max_queue),
        )
        room, events = await self.service.apply(room_id, SetPolicy(by=actor, policy=policy))
        return {"version": room.version, "changed": bool(events)}

    # -- listener status (ephemeral: the hub's, not the room's) ---------------------------------
    def buffering_in(self, room_id: str) -> frozenset[str]:
        """Ids of the members of `room_id` whose audio is held up right now."""
        return frozenset(self._buffering.get(room_id, ()))

    def _state(self, room: Room) -> dict[str, Any]:
        return room_state(room, self.service.now(), self.available, self.buffering_in(room.id))

    def _set_buffering(self, room_id: str, user_id: str, sid: str, buffering: bool) -> bool:
        """Record one connection's status; announce when the member's status changes."""
        members = self._buffering.setdefault(room_id, {})
        sids = members.setdefault(user_id, set())
        before = bool(sids)
        if buffering:
            sids.add(sid)
        else:
            sids.discard(sid)
        after = bool(sids)
        if not sids:
            del members[user_id]
            if not members:
                del self._buffering[room_id]
        if before != after:
            room = self.service.get(room_id)
            member = room.member(user_id) if room else None
            payload = {
                "room": room_id,
                "member": {"id": user_id, "name": member.name if member else ""},
                "buffering": after,
            }
            self.announcer.member_status(room_id, payload)
        return before != after

    async def _listener_status(self, conn: Connection, req: p.ListenerStatus) -> dict[str, Any]:
        room_id, actor = self._actor(conn, req)
        return {"changed": self._set_buffering(room_id, actor.id, conn.sid, req.buffering)}

    async def _time_ping(self, conn: Connection, req: p.TimePing) -> dict[str, Any]:
        if req.rtt is not None:
            conn.rtt = req.rtt
        return {"t0": req.t0}  # t1 and t2 are added by the dispatcher, as late as possible


def _applied(version: int, at: float, events: tuple[Event, ...]) -> dict[str, Any]:
    return {"version": version, "at": at, "changed": bool(events)}


T = TypeVar("T")


def _pick(new: T | None, old: T) -> T:
    return old if new is None else new


def _error(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": code, "detail": detail, **extra}


def _parse(model: type[P], data: Any) -> P:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProtocolError("invalid_argument", "the payload must be an object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors()[:3]:
            where = ".".join(str(part) for part in error["loc"]) or "payload"
            problems.append(f"{where}: {error['msg']}")
        raise ProtocolError("invalid_argument", "; ".join(problems)) from None
