"""The fake gateway: one WebSocket per connection attempt, one session across resumes.

Speaks gateway v10 as Discord does: HELLO on connect, HEARTBEAT answered by HEARTBEAT_ACK,
IDENTIFY answered by READY and one GUILD_CREATE per guild, every DISPATCH numbered, RESUME
replaying what the session missed and then RESUMED, RECONNECT and INVALID_SESSION on request.
Frames are zlib-stream compressed when the client asks for it (one compression context per
connection, every message ending in a Z_SYNC_FLUSH), as discord.py does by default."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .payloads import Json

# Opcodes (https://discord.com/developers/docs/topics/opcodes-and-status-codes)
DISPATCH = 0
HEARTBEAT = 1
IDENTIFY = 2
PRESENCE_UPDATE = 3
VOICE_STATE_UPDATE = 4
RESUME = 6
RECONNECT = 7
REQUEST_GUILD_MEMBERS = 8
INVALID_SESSION = 9
HELLO = 10
HEARTBEAT_ACK = 11

# Close codes
UNKNOWN_OPCODE = 4001
DECODE_ERROR = 4002
NOT_AUTHENTICATED = 4003
AUTHENTICATION_FAILED = 4004
ALREADY_AUTHENTICATED = 4005


@dataclass
class Frame:
    """One payload a client sent, and over which connection (1 = the first)."""

    connection: int
    op: int
    d: Any


@dataclass
class Session:
    session_id: str
    intents: int
    seq: int = 0
    events: list[Json] = field(default_factory=list)  # every dispatched payload, for resumes


class Connection:
    def __init__(self, number: int, ws: web.WebSocketResponse, path: str, compress: bool) -> None:
        self.number = number
        self.ws = ws
        self.path = path
        self.compressed = compress  # zlib-stream frames, as the client asked
        self._compressor = zlib.compressobj() if compress else None
        self.session: Session | None = None  # set once IDENTIFY or RESUME succeeded
        self._lock = asyncio.Lock()

    async def send(self, payload: Json) -> None:
        text = json.dumps(payload, separators=(",", ":"))
        async with self._lock:  # one compression stream: frames must leave in order
            if self.ws.closed:
                return
            if self._compressor is None:
                await self.ws.send_str(text)
            else:
                data = self._compressor.compress(text.encode())
                data += self._compressor.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(data)


class Gateway:
    def __init__(
        self,
        *,
        token: str,
        ready: Callable[[Session], Json],
        guild_creates: Callable[[Session], list[Json]],
        members_chunk: Callable[[Json], Json],
        heartbeat_interval: int,
        changed: Callable[[], None],
    ) -> None:
        self._token = token
        self._ready = ready
        self._guild_creates = guild_creates
        self._members_chunk = members_chunk
        self.heartbeat_interval = heartbeat_interval
        self._changed = changed
        self.frames: list[Frame] = []
        self.connections: list[Connection] = []
        self.session: Session | None = None
        self.current: Connection | None = None  # the connection events go to, once identified

    # -- what the fake does on its own initiative ------------------------------------------

    async def dispatch(self, event: str, data: Json) -> int:
        """Send one event to the session (or keep it for the resume if it is disconnected)."""
        if self.session is None:
            raise RuntimeError(f"no gateway session to dispatch {event} to")
        self.session.seq += 1
        payload = {"op": DISPATCH, "t": event, "s": self.session.seq, "d": data}
        self.session.events.append(payload)
        if self.current is not None and self.current.session is self.session:
            await self.current.send(payload)
        return self.session.seq

    async def drop(self, code: int = 4000) -> None:
        """Close the live connection as a failing Discord node would: the client should resume."""
        connection = self._live()
        self.current = None
        await connection.ws.close(code=code, message=b"dropped by the fake")

    async def request_reconnect(self) -> None:
        """Opcode 7: Discord asks the client to reconnect and resume."""
        await self._live().send({"op": RECONNECT, "d": None})

    async def invalidate_session(self, *, resumable: bool) -> None:
        """Opcode 9: with false the session is gone and the client must IDENTIFY again."""
        connection = self._live()
        if not resumable:
            self.session = None
            self.current = None
        await connection.send({"op": INVALID_SESSION, "d": resumable})

    def _live(self) -> Connection:
        if self.current is None:
            raise RuntimeError("no live gateway connection")
        return self.current

    # -- the WebSocket endpoint ------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=4096 * 1024)
        query = request.query
        if query.get("v") != "10" or query.get("encoding", "json") != "json":
            raise web.HTTPBadRequest(text="this gateway speaks v=10 with encoding=json")
        compress = query.get("compress")
        if compress not in (None, "zlib-stream"):
            raise web.HTTPBadRequest(text=f"unsupported compress={compress}")
        await ws.prepare(request)
        connection = Connection(
            len(self.connections) + 1, ws, request.path, compress == "zlib-stream"
        )
        self.connections.append(connection)
        self._changed()
        await connection.send({"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval}})
        try:
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    await ws.close(code=DECODE_ERROR, message=b"Error while decoding payload.")
                    break
                try:
                    payload = json.loads(message.data)
                    op, d = payload["op"], payload.get("d")
                except (ValueError, KeyError, TypeError):
                    await ws.close(code=DECODE_ERROR, message=b"Error while decoding payload.")
                    break
                self.frames.append(Frame(connection.number, op, d))
                self._changed()
                await self._receive(connection, op, d)
        finally:
            if self.current is connection:
                self.current = None
            self._changed()
        return ws

    async def _receive(self, connection: Connection, op: int, d: Any) -> None:
        if op == HEARTBEAT:
            await connection.send({"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            await self._identify(connection, d)
        elif op == RESUME:
            await self._resume(connection, d)
        elif connection.session is None:
            await connection.ws.close(code=NOT_AUTHENTICATED, message=b"Not authenticated.")
        elif op == REQUEST_GUILD_MEMBERS:
            await self.dispatch("GUILD_MEMBERS_CHUNK", self._members_chunk(d))
        elif op in (PRESENCE_UPDATE, VOICE_STATE_UPDATE):
            pass  # recorded in frames; nothing to answer
        else:
            await connection.ws.close(code=UNKNOWN_OPCODE, message=b"Unknown opcode.")

    async def _identify(self, connection: Connection, d: Any) -> None:
        if connection.session is not None:
            await connection.ws.close(code=ALREADY_AUTHENTICATED, message=b"Already authenticated.")
            return
        if not isinstance(d, dict) or d.get("token") != self._token:
            await connection.ws.close(code=AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return
        self.session = Session(secrets.token_hex(16), int(d.get("intents") or 0))
        connection.session = self.session
        self.current = connection
        await self.dispatch("READY", self._ready(self.session))
        for guild in self._guild_creates(self.session):
            await self.dispatch("GUILD_CREATE", guild)

    async def _resume(self, connection: Connection, d: Any) -> None:
        session = self.session
        if (
            not isinstance(d, dict)
            or d.get("token") != self._token
            or session is None
            or d.get("session_id") != session.session_id
            or not isinstance(d.get("seq"), int)
            or d["seq"] > session.seq
        ):
            await connection.send({"op": INVALID_SESSION, "d": False})
            return
        connection.session = session
        self.current = connection
        for payload in session.events:
            if payload["s"] > d["seq"]:
                await connection.send(payload)
        await self.dispatch("RESUMED", {})

    async def close(self) -> None:
        for connection in self.connections:
            with contextlib.suppress(Exception):
                await connection.ws.close(code=1001)
