"""`FakeDiscord`: the gateway and REST API on one loopback port, and what a test does with them
(send a slash command, press a button, drop the connection) and waits for (a request, a gateway
frame, an interaction's reply)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import discord
import discord.gateway
import discord.http
import yarl
from aiohttp import web

from .gateway import Frame, Gateway, Session
from .interactions import (
    APPLICATION_COMMAND_AUTOCOMPLETE_RESULT,
    Interaction,
    base,
    command_data,
    command_options,
)
from .payloads import (
    APPLICATION_COMMAND,
    APPLICATION_COMMAND_AUTOCOMPLETE,
    GUILD_MEMBERS_INTENT,
    LOADING,
    MESSAGE_COMPONENT,
    Json,
    Snowflakes,
    World,
)
from .records import Changes, Request
from .rest import Api

TOKEN = "fake-bot-token.for-tests.only"
API_VERSION = 10


class FakeDiscord:
    """Start with `await fake.start()`, point discord.py at it with `fake.patch(monkeypatch)`,
    run the bot with `TOKEN`, and `await fake.stop()` at the end."""

    def __init__(
        self,
        *,
        heartbeat_interval: int = 41_250,
        ack_window: float = 3.0,
        timeout: float = 10.0,
    ) -> None:
        self.ids = Snowflakes()
        self.world = World.create(self.ids)
        self.timeout = timeout  # default for every wait_* helper
        self.changes = Changes()
        self.gateway = Gateway(
            token=TOKEN,
            ready=self._ready,
            guild_creates=self._guild_creates,
            members_chunk=self._members_chunk,
            heartbeat_interval=heartbeat_interval,
            changed=self.changes.notify,
        )
        self.api = Api(
            self.world,
            self.ids,
            self.gateway,
            self.changes,
            token=TOKEN,
            gateway_url=lambda: self.gateway_url,
            base_url=lambda: self.url,
            ack_window=ack_window,
        )
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/resume-gateway", self.gateway.handle)
        app.router.add_route("*", f"/api/v{API_VERSION}/{{tail:.*}}", self.api.handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def stop(self) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        """What GET /gateway/bot answers; READY names another path to resume on, as Discord
        does, so a test can tell a resume from a fresh connection."""
        return "ws" + self.url.removeprefix("http") + "/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return "ws" + self.url.removeprefix("http") + "/resume-gateway"

    def patch(self, monkeypatch: Any) -> None:
        """Point discord.py's REST routes and its default gateway at this fake. discord.py has
        no base-URL option: every request is built from the class attribute `Route.BASE`."""
        monkeypatch.setattr(discord.http.Route, "BASE", self.api_url)
        monkeypatch.setattr(
            discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(self.gateway_url)
        )

    # -- gateway payloads --------------------------------------------------------------------

    def _ready(self, session: Session) -> Json:
        return {
            "v": API_VERSION,
            "user": {**self.world.bot, "verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(self.world.guild.id), "unavailable": True}],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "shard": [0, 1],
            "application": {"id": str(self.world.application_id), "flags": 0},
            "private_channels": [],
            "presences": [],
            "relationships": [],
            "user_settings": {},
            "geo_ordered_rtc_regions": ["rotterdam"],
            "guild_join_requests": [],
            "_trace": ["fake-discord"],
        }

    def _guild_creates(self, session: Session) -> list[Json]:
        guild = self.world.guild
        # Without the GUILD_MEMBERS intent Discord sends only the bot's own member.
        only = None if session.intents & GUILD_MEMBERS_INTENT else self.world.application_id
        return [guild.create_payload(only_member=only)]

    def _members_chunk(self, request: Json) -> Json:
        guild = self.world.guild
        wanted = request.get("user_ids")
        members = [
            m for uid, m in guild.members.items() if wanted is None or str(uid) in map(str, wanted)
        ]
        return {
            "guild_id": str(guild.id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
            "nonce": request.get("nonce"),
        }

    # -- what a test sends -------------------------------------------------------------------

    async def slash(
        self, name: str, *, user: str = "alice", channel_id: int | None = None, **options: Any
    ) -> Interaction:
        """A user runs /name with the given options (typed from the registered command);
        `name` may name a subcommand: "dj role"."""
        top, *path = name.split()
        command = self.api.command(top)
        interaction = self._new(APPLICATION_COMMAND, user, channel_id)
        interaction.payload["data"] = command_data(
            command, command_options(command, path, options), self.world
        )
        await self.gateway.dispatch("INTERACTION_CREATE", interaction.payload)
        return interaction

    async def autocomplete(
        self,
        name: str,
        focused: str,
        value: str,
        *,
        user: str = "alice",
        channel_id: int | None = None,
        **options: Any,
    ) -> list[Json]:
        """A user types `value` into option `focused` of /name; returns the choices offered."""
        top, *path = name.split()
        command = self.api.command(top)
        interaction = self._new(APPLICATION_COMMAND_AUTOCOMPLETE, user, channel_id)
        values = {**options, focused: value}
        interaction.payload["data"] = command_data(
            command, command_options(command, path, values, focused=focused), self.world
        )
        await self.gateway.dispatch("INTERACTION_CREATE", interaction.payload)
        callback = await self.acknowledged(interaction)
        assert callback["type"] == APPLICATION_COMMAND_AUTOCOMPLETE_RESULT, callback
        choices: list[Json] = callback["data"]["choices"]
        return choices

    async def press(self, message_id: int, custom_id: str, *, user: str = "alice") -> Interaction:
        """A user presses the button `custom_id` on a message the bot posted."""
        current = self.api.messages.get(message_id)
        if current is None:
            raise KeyError(f"no message {message_id}")
        if custom_id not in _custom_ids(current):
            raise KeyError(f"message {message_id} has no component {custom_id!r}")
        interaction = self._new(MESSAGE_COMPONENT, user, int(current["channel_id"]))
        interaction.payload["message"] = current
        interaction.payload["data"] = {"custom_id": custom_id, "component_type": 2}
        await self.gateway.dispatch("INTERACTION_CREATE", interaction.payload)
        return interaction

    async def join_voice(self, user: str, channel_id: int | None = None) -> None:
        """`user` joins a voice channel (the guild's one by default), as the bot hears it."""
        user_id = int(self.world.user_named(user)["id"])
        channel = channel_id or self.world.voice_channel_id
        self.world.guild.voice[user_id] = channel
        await self.gateway.dispatch(
            "VOICE_STATE_UPDATE", self.world.guild.voice_state(user_id, channel)
        )

    async def leave_voice(self, user: str) -> None:
        user_id = int(self.world.user_named(user)["id"])
        self.world.guild.voice.pop(user_id, None)
        await self.gateway.dispatch(
            "VOICE_STATE_UPDATE", self.world.guild.voice_state(user_id, None)
        )

    def _new(self, kind: int, user: str, channel_id: int | None) -> Interaction:
        interaction_id = self.ids.next()
        payload = base(
            self.world, interaction_id, kind, user, channel_id or self.world.text_channel_id
        )
        interaction = Interaction(interaction_id, payload["token"], kind, payload)
        self.api.interactions[interaction.token] = interaction
        return interaction

    async def drop(self, code: int = 4000) -> None:
        await self.gateway.drop(code)

    async def request_reconnect(self) -> None:
        await self.gateway.request_reconnect()

    async def invalidate_session(self, *, resumable: bool = False) -> None:
        await self.gateway.invalidate_session(resumable=resumable)

    # -- what a test waits for ---------------------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        return self.api.requests

    def mark(self) -> int:
        """A position in the request log: pass it as `after` to ignore earlier requests."""
        return len(self.api.requests)

    def find(self, method: str, path: str, *, after: int = 0) -> list[Request]:
        return [r for r in self.api.requests[after:] if r.matches(method, path)]

    async def wait_for_request(
        self,
        method: str,
        path: str,
        where: Callable[[Request], bool] = lambda r: True,
        *,
        after: int = 0,
        wait: float | None = None,
    ) -> Request:
        """The first request (from position `after`) whose path fully matches the regex `path`."""

        def probe() -> Request | None:
            for request in self.find(method, path, after=after):
                if where(request):
                    return request
            return None

        return await self.changes.until(
            probe,
            wait=wait or self.timeout,
            describe=lambda: f"no {method} {path} arrived; got {self.api.requests[after:]}",
        )

    async def wait_for_frame(
        self,
        op: int,
        where: Callable[[Frame], bool] = lambda f: True,
        *,
        wait: float | None = None,
    ) -> Frame:
        """The first gateway payload with opcode `op` the bot sent (matching `where`)."""

        def probe() -> Frame | None:
            return next((f for f in self.gateway.frames if f.op == op and where(f)), None)

        return await self.changes.until(
            probe,
            wait=wait or self.timeout,
            describe=lambda: f"no op {op} arrived; got {[f.op for f in self.gateway.frames]}",
        )

    async def acknowledged(self, interaction: Interaction, *, wait: float | None = None) -> Json:
        """The callback the bot posted for `interaction`."""
        return await self.changes.until(
            lambda: interaction.callback,
            wait=wait or self.timeout,
            describe=lambda: (
                f"the bot never acknowledged {interaction.name}; requests: {self.api.requests}"
            ),
        )

    async def reply(self, interaction: Interaction, *, wait: float | None = None) -> Json:
        """The message answering `interaction` once it has content: an immediate reply, or the
        edit that fills in a deferred one."""
        await self.acknowledged(interaction, wait=wait)

        def probe() -> Json | None:
            found = self.api.messages.get(interaction.original_id or 0)
            if found is None or found["flags"] & LOADING:
                return None
            return found

        return await self.changes.until(
            probe,
            wait=wait or self.timeout,
            describe=lambda: (
                f"no reply to {interaction.name} arrived; requests: {self.api.requests}"
            ),
        )

    async def wait_for_message(
        self,
        where: Callable[[Json], bool],
        *,
        wait: float | None = None,
        describe: str = "a message",
    ) -> Json:
        """The first stored message (current content) for which `where` holds."""

        def probe() -> Json | None:
            return next((m for m in list(self.api.messages.values()) if where(m)), None)

        return await self.changes.until(
            probe,
            wait=wait or self.timeout,
            describe=lambda: f"no message matched: {describe}; requests: {self.api.requests}",
        )

    def refused(self) -> list[Request]:
        """Requests answered with an error: a bot that works against Discord makes none."""
        return [r for r in self.api.requests if r.status >= 400]


def _custom_ids(message: Json) -> Iterator[str]:
    for row in message.get("components") or []:
        for item in row.get("components") or []:
            if "custom_id" in item:
                yield item["custom_id"]


def message_text(message: Json) -> str:
    """Everything a user reads in a message: content, embed text and button labels."""
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        for item in embed.get("fields") or []:
            parts += [item.get("name") or "", item.get("value") or ""]
        for key, name in (("footer", "text"), ("author", "name")):
            parts.append((embed.get(key) or {}).get(name) or "")
    for row in message.get("components") or []:
        parts += [c.get("label") or "" for c in row.get("components") or []]
    return "\n".join(p for p in parts if p)
