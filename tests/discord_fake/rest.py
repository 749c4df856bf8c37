"""The fake REST API: the routes a bot calls, answered with Discord-shaped JSON and Discord's
errors. Anything else is recorded and answered 404, so a test can see what the bot tried."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, web

from . import limits
from .gateway import Gateway
from .interactions import (
    ALLOWED_CALLBACKS,
    APPLICATION_COMMAND_AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_UPDATE_MESSAGE,
    UPDATE_MESSAGE,
    Interaction,
)
from .payloads import (
    EPHEMERAL,
    GUILD_MESSAGES_INTENT,
    LOADING,
    Json,
    Snowflakes,
    World,
    attachment,
    edit_message,
    message,
)
from .records import Changes, Request

Answer = tuple[int, Any]  # status, JSON (None: empty body)
Handler = Callable[[Request, dict[str, str]], Awaitable[Answer]]

CHAT_INPUT_COMMAND_MESSAGE = 20  # message type of an interaction's response


def error(status: int, code: int, message_text: str, errors: list[str] | None = None) -> Answer:
    body: Json = {"message": message_text, "code": code}
    if errors:
        body["errors"] = {"_errors": [{"code": "INVALID", "message": e} for e in errors]}
    return status, body


NOT_FOUND = error(404, 0, "404: Not Found")
UNKNOWN_MESSAGE = error(404, 10008, "Unknown Message")
UNKNOWN_CHANNEL = error(404, 10003, "Unknown Channel")
UNKNOWN_INTERACTION = error(404, 10062, "Unknown interaction")
UNKNOWN_WEBHOOK = error(404, 10015, "Unknown Webhook")


def invalid_form(errors: list[str]) -> Answer:
    return error(400, 50035, "Invalid Form Body", errors)


class Api:
    def __init__(
        self,
        world: World,
        ids: Snowflakes,
        gateway: Gateway,
        changes: Changes,
        *,
        token: str,
        gateway_url: Callable[[], str],
        base_url: Callable[[], str],
        ack_window: float,
    ) -> None:
        self.world = world
        self._ids = ids
        self._gateway = gateway
        self._changes = changes
        self._token = token
        self._gateway_url = gateway_url
        self._base_url = base_url
        self.ack_window = ack_window
        self.requests: list[Request] = []
        self.messages: dict[int, Json] = {}
        self.deleted: set[int] = set()
        self.commands: dict[int | None, list[Json]] = {}  # guild id (None: global) -> commands
        self.interactions: dict[str, Interaction] = {}  # by token
        app = r"(?P<app>\d+)"
        guild = r"/guilds/(?P<guild>\d+)"
        hook = r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)"
        hook_message = rf"{hook}/messages/(?P<mid>@original|\d+)"
        channel = r"/channels/(?P<channel>\d+)"
        self._routes: list[tuple[str, re.Pattern[str], Handler, bool]] = []
        for method, path, handler, authed in (
            ("GET", r"/gateway", self._gateway_info, False),
            ("GET", r"/gateway/bot", self._gateway_bot, True),
            ("GET", r"/users/@me", self._me, True),
            ("GET", r"/(?:oauth2/)?applications/@me", self._application, True),
            ("GET", rf"/applications/{app}/commands", self._get_commands, True),
            ("PUT", rf"/applications/{app}/commands", self._put_commands, True),
            ("GET", rf"/applications/{app}{guild}/commands", self._get_commands, True),
            ("PUT", rf"/applications/{app}{guild}/commands", self._put_commands, True),
            ("POST", r"/interactions/(?P<id>\d+)/(?P<token>[^/]+)/callback", self._callback, False),
            ("POST", hook, self._followup, False),
            ("GET", hook_message, self._hook_get, False),
            ("PATCH", hook_message, self._hook_edit, False),
            ("DELETE", hook_message, self._hook_delete, False),
            ("GET", rf"{guild}/members/(?P<user>\d+)", self._member, True),
            ("GET", channel, self._channel, True),
            ("GET", rf"{channel}/messages", self._history, True),
            ("POST", rf"{channel}/messages", self._create_message, True),
            ("GET", rf"{channel}/messages/(?P<mid>\d+)", self._get_message, True),
            ("PATCH", rf"{channel}/messages/(?P<mid>\d+)", self._edit_message, True),
            ("DELETE", rf"{channel}/messages/(?P<mid>\d+)", self._delete_message, True),
        ):  # fmt: skip
            self._routes.append((method, re.compile(path), handler, authed))

    # -- the aiohttp endpoint ---------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        at = time.monotonic()
        body, files = await _body(request)
        record = Request(request.method, path, dict(request.query), body, files, at=at)
        self.requests.append(record)
        status, answer = await self._answer(request, record)
        record.status, record.answer = status, answer
        self._changes.notify()
        if answer is None:
            return web.Response(status=status)
        # discord.py parses JSON only when the content type is exactly application/json
        return web.Response(
            status=status,
            body=json.dumps(answer).encode(),
            headers={"Content-Type": "application/json"},
        )

    async def _answer(self, request: web.Request, record: Request) -> Answer:
        known_path = False
        for method, pattern, handler, authed in self._routes:
            match = pattern.fullmatch(record.path)
            if match is None:
                continue
            known_path = True
            if method != record.method:
                continue
            if authed and request.headers.get("Authorization") != f"Bot {self._token}":
                return error(401, 0, "401: Unauthorized")
            app = match.groupdict().get("app")
            if app is not None and int(app) != self.world.application_id:
                return error(404, 10002, "Unknown Application")
            return await handler(record, match.groupdict())
        return error(405, 0, "405: Method Not Allowed") if known_path else NOT_FOUND

    # -- gateway, identity ------------------------------------------------------------------

    async def _gateway_info(self, record: Request, match: dict[str, str]) -> Answer:
        return 200, {"url": self._gateway_url()}

    async def _gateway_bot(self, record: Request, match: dict[str, str]) -> Answer:
        return 200, {
            "url": self._gateway_url(),
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        }

    async def _me(self, record: Request, match: dict[str, str]) -> Answer:
        return 200, self.world.bot

    async def _application(self, record: Request, match: dict[str, str]) -> Answer:
        return 200, self.world.application()

    # -- application commands ---------------------------------------------------------------

    async def _get_commands(self, record: Request, match: dict[str, str]) -> Answer:
        guild = _guild_key(match)
        if guild is not None and guild != self.world.guild.id:
            return error(403, 50001, "Missing Access")
        return 200, self.commands.get(guild, [])

    async def _put_commands(self, record: Request, match: dict[str, str]) -> Answer:
        guild = _guild_key(match)
        if guild is not None and guild != self.world.guild.id:
            return error(403, 50001, "Missing Access")
        body = record.body
        if not isinstance(body, list):
            return invalid_form(["body: a list of commands"])
        if len(body) > 100:
            return invalid_form([f"body: {len(body)} commands, at most 100 per scope"])
        problems = [p for command in body for p in limits.command_errors(command)]
        keys = [(c.get("name"), c.get("type", 1)) for c in body]
        if len(set(keys)) != len(keys):
            problems.append("body: two commands share a name and type")
        if problems:
            return invalid_form(problems)
        existing = {(c["name"], c["type"]): c["id"] for c in self.commands.get(guild, [])}
        stored = []
        for command in body:
            kind = command.get("type", 1)
            item = {
                "description": "",
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
                **command,
                "type": kind,
                "id": existing.get((command["name"], kind)) or str(self._ids.next()),
                "application_id": str(self.world.application_id),
                "version": str(self._ids.next()),
            }
            if guild is not None:
                item["guild_id"] = str(guild)
            stored.append(item)
        self.commands[guild] = stored
        return 200, stored

    def command(self, name: str) -> Json:
        """The registered chat-input command `name`: a guild command first, as Discord shows."""
        for scope in (self.world.guild.id, None):
            for command in self.commands.get(scope, []):
                if command["name"] == name and command["type"] == 1:
                    return command
        known = sorted(c["name"] for cs in self.commands.values() for c in cs)
        raise KeyError(f"/{name} is not registered with the fake Discord (registered: {known})")

    # -- interaction responses --------------------------------------------------------------

    async def _callback(self, record: Request, match: dict[str, str]) -> Answer:
        interaction = self.interactions.get(match["token"])
        if interaction is None or str(interaction.id) != match["id"]:
            return UNKNOWN_INTERACTION
        elapsed = record.at - interaction.sent_at
        if elapsed > self.ack_window:
            return UNKNOWN_INTERACTION  # Discord forgets an unacknowledged interaction after 3 s
        if interaction.callback is not None:
            return error(400, 40060, "Interaction has already been acknowledged.")
        body = record.body
        if not isinstance(body, dict) or body.get("type") not in ALLOWED_CALLBACKS.get(
            interaction.type, set()
        ):
            kind = body.get("type") if isinstance(body, dict) else None
            return invalid_form([f"type: callback {kind} not valid for this interaction"])
        kind, data = body["type"], body.get("data") or {}
        if kind in (CHANNEL_MESSAGE_WITH_SOURCE, UPDATE_MESSAGE):
            problems = limits.message_errors(data, edit=kind == UPDATE_MESSAGE)
            if problems:
                return invalid_form(problems)
        if kind == APPLICATION_COMMAND_AUTOCOMPLETE_RESULT:
            problems = limits.autocomplete_errors(data)
            if problems:
                return invalid_form(problems)
        interaction.callback = body
        interaction.callback_after = elapsed
        resource: Json | None = None
        if kind in (CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE):
            loading = kind == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
            created = self._new_message(
                int(interaction.payload["channel_id"]),
                data,
                record.files,
                flags=LOADING if loading else 0,
                extra=_from_interaction(interaction),
            )
            interaction.original_id = int(created["id"])
            resource = {"type": kind, "message": created}
            if not created["flags"] & EPHEMERAL:
                await self._announce("MESSAGE_CREATE", created)
        elif kind in (UPDATE_MESSAGE, DEFERRED_UPDATE_MESSAGE):
            target = int(interaction.payload["message"]["id"])
            interaction.original_id = target
            if kind == UPDATE_MESSAGE:
                edited = await self._edit(target, data, record.files)
                resource = {"type": kind, "message": edited}
        elif kind == APPLICATION_COMMAND_AUTOCOMPLETE_RESULT:
            resource = {"type": kind}
        if record.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        original = self.messages.get(interaction.original_id or 0)
        answer: Json = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "response_message_id": str(interaction.original_id)
                if interaction.original_id
                else None,
                "response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
                "response_message_ephemeral": bool(original and original["flags"] & EPHEMERAL),
            },
        }
        if resource is not None:
            answer["resource"] = resource
        return 200, answer

    def _hook_interaction(self, match: dict[str, str]) -> Interaction | None:
        interaction = self.interactions.get(match["token"])
        if interaction is None or interaction.callback is None:
            return None  # a webhook token only works once the interaction was acknowledged
        return interaction

    def _hook_message_id(self, interaction: Interaction, mid: str) -> int | None:
        if mid == "@original":
            return interaction.original_id
        wanted = int(mid)
        if wanted == interaction.original_id or wanted in interaction.followup_ids:
            return wanted
        return None

    async def _followup(self, record: Request, match: dict[str, str]) -> Answer:
        interaction = self._hook_interaction(match)
        if interaction is None:
            return UNKNOWN_WEBHOOK
        problems = limits.message_errors(record.body)
        if problems:
            return invalid_form(problems)
        original = self.messages.get(interaction.original_id or 0)
        if original is not None and original["flags"] & LOADING:
            # Discord turns the first follow-up after a "thinking" deferral into the response
            # itself, visible or ephemeral as the deferral was, whatever the follow-up asked.
            body = {k: v for k, v in record.body.items() if k != "flags"}
            edited = await self._edit(int(original["id"]), body, record.files)
            return (
                (200, edited) if record.query.get("wait") in ("1", "true", "True") else (204, None)
            )
        channel_id = int(interaction.payload["channel_id"])
        created = self._new_message(
            channel_id, record.body, record.files, extra=_from_interaction(interaction)
        )
        interaction.followup_ids.append(int(created["id"]))
        if not created["flags"] & EPHEMERAL:
            await self._announce("MESSAGE_CREATE", created)
        if record.query.get("wait") not in ("1", "true", "True"):
            return 204, None
        return 200, created

    async def _hook_get(self, record: Request, match: dict[str, str]) -> Answer:
        interaction = self._hook_interaction(match)
        if interaction is None:
            return UNKNOWN_WEBHOOK
        mid = self._hook_message_id(interaction, match["mid"])
        if mid is None or mid not in self.messages:
            return UNKNOWN_MESSAGE
        return 200, self.messages[mid]

    async def _hook_edit(self, record: Request, match: dict[str, str]) -> Answer:
        interaction = self._hook_interaction(match)
        if interaction is None:
            return UNKNOWN_WEBHOOK
        mid = self._hook_message_id(interaction, match["mid"])
        if mid is None or mid not in self.messages:
            return UNKNOWN_MESSAGE
        problems = limits.message_errors(record.body, edit=True)
        if problems:
            return invalid_form(problems)
        return 200, await self._edit(mid, record.body, record.files)

    async def _hook_delete(self, record: Request, match: dict[str, str]) -> Answer:
        interaction = self._hook_interaction(match)
        if interaction is None:
            return UNKNOWN_WEBHOOK
        mid = self._hook_message_id(interaction, match["mid"])
        if mid is None or mid not in self.messages:
            return UNKNOWN_MESSAGE
        await self._delete(mid)
        return 204, None

    async def _member(self, record: Request, match: dict[str, str]) -> Answer:
        if int(match["guild"]) != self.world.guild.id:
            return error(404, 10004, "Unknown Guild")
        found = self.world.guild.members.get(int(match["user"]))
        return error(404, 10007, "Unknown Member") if found is None else (200, found)

    # -- channels and messages --------------------------------------------------------------

    async def _channel(self, record: Request, match: dict[str, str]) -> Answer:
        channel = self.world.guild.channel(int(match["channel"]))
        if channel is None:
            return UNKNOWN_CHANNEL
        return 200, {**channel, "guild_id": str(self.world.guild.id)}

    async def _history(self, record: Request, match: dict[str, str]) -> Answer:
        channel_id = int(match["channel"])
        if self.world.guild.channel(channel_id) is None:
            return UNKNOWN_CHANNEL
        limit = int(record.query.get("limit", "50"))
        after = int(record.query.get("after", "0"))
        before = int(record.query.get("before", str(1 << 63)))
        found = [
            m
            for m in self.messages.values()
            if int(m["channel_id"]) == channel_id
            and not m["flags"] & EPHEMERAL
            and after < int(m["id"]) < before
        ]
        # Newest first; with `after`, the `limit` messages right after it (still newest first,
        # which discord.py's history() relies on when it pages forward).
        found.sort(key=lambda m: int(m["id"]), reverse="after" not in record.query)
        found = found[:limit]
        found.sort(key=lambda m: int(m["id"]), reverse=True)
        return 200, found

    async def _create_message(self, record: Request, match: dict[str, str]) -> Answer:
        channel_id = int(match["channel"])
        if self.world.guild.channel(channel_id) is None:
            return UNKNOWN_CHANNEL
        problems = limits.message_errors(record.body)
        if problems:
            return invalid_form(problems)
        created = self._new_message(channel_id, record.body, record.files)
        await self._announce("MESSAGE_CREATE", created)
        return 200, created

    async def _get_message(self, record: Request, match: dict[str, str]) -> Answer:
        found = self._channel_message(match)
        return UNKNOWN_MESSAGE if found is None else (200, found)

    async def _edit_message(self, record: Request, match: dict[str, str]) -> Answer:
        found = self._channel_message(match)
        if found is None:
            return UNKNOWN_MESSAGE
        if found["author"]["id"] != self.world.bot["id"]:
            return error(403, 50005, "Cannot edit a message authored by another user")
        problems = limits.message_errors(record.body, edit=True)
        if problems:
            return invalid_form(problems)
        return 200, await self._edit(int(found["id"]), record.body, record.files)

    async def _delete_message(self, record: Request, match: dict[str, str]) -> Answer:
        found = self._channel_message(match)
        if found is None:
            return UNKNOWN_MESSAGE
        await self._delete(int(found["id"]))
        return 204, None

    def _channel_message(self, match: dict[str, str]) -> Json | None:
        found = self.messages.get(int(match["mid"]))
        if found is None or found["channel_id"] != match["channel"]:
            return None
        if found["flags"] & EPHEMERAL:
            return None  # ephemeral messages are only reachable through their interaction
        return found

    @property
    def base_url(self) -> str:
        return self._base_url()

    # -- the message store ------------------------------------------------------------------

    def _new_message(
        self,
        channel_id: int,
        body: Json,
        files: list[Json],
        *,
        flags: int = 0,
        extra: Json | None = None,
    ) -> Json:
        created = message(
            self._ids.next(),
            channel_id,
            self.world.bot,
            body,
            attachments=self._attachments(channel_id, body, files, []),
            guild_id=self.world.guild.id,
            flags=flags,
            message_type=CHAT_INPUT_COMMAND_MESSAGE if extra else 0,
            extra=extra,
        )
        self.messages[int(created["id"])] = created
        return created

    def _attachments(
        self, channel_id: int, body: Json, files: list[Json], kept: list[Json]
    ) -> list[Json]:
        """The message's attachments after this request: the `attachments` list names the
        files kept (by id) and the new uploads (by index); without it, every upload is added."""
        uploads = {f["index"]: f for f in files}
        if "attachments" not in body:
            listed: list[Json] = [{"id": i} for i in uploads]
            result = list(kept)
        else:
            listed, result = body["attachments"] or [], []
        current = {a["id"]: a for a in kept}
        for item in listed:
            key = item.get("id")
            if str(key) in current and not isinstance(key, int):
                result.append(current[str(key)])
            elif isinstance(key, int) and key in uploads:
                result.append(attachment(self._ids.next(), channel_id, uploads[key], self.base_url))
            elif str(key) in current:
                result.append(current[str(key)])
        return result

    async def _edit(self, message_id: int, body: Json, files: list[Json]) -> Json:
        current = self.messages[message_id]
        kept = self._attachments(int(current["channel_id"]), body, files, current["attachments"])
        edited = edit_message(current, body, kept)
        self.messages[message_id] = edited
        if not edited["flags"] & EPHEMERAL:
            await self._announce("MESSAGE_UPDATE", edited)
        return edited

    async def _delete(self, message_id: int) -> None:
        gone = self.messages.pop(message_id)
        self.deleted.add(message_id)
        if not gone["flags"] & EPHEMERAL:
            await self._announce(
                "MESSAGE_DELETE",
                {"id": gone["id"], "channel_id": gone["channel_id"], "guild_id": gone["guild_id"]},
            )

    async def _announce(self, event: str, data: Json) -> None:
        """Tell the bot's gateway session, as Discord does when it holds the intent."""
        session = self._gateway.session
        if session is not None and session.intents & GUILD_MESSAGES_INTENT:
            await self._gateway.dispatch(event, data)


def _guild_key(match: dict[str, str]) -> int | None:
    guild = match.get("guild")
    return None if guild is None else int(guild)


def _from_interaction(interaction: Interaction) -> Json:
    """What Discord adds to a message that answers an interaction."""
    payload = interaction.payload
    user = payload["member"]["user"]
    return {
        "webhook_id": payload["application_id"],
        "application_id": payload["application_id"],
        "interaction_metadata": {
            "id": str(interaction.id),
            "type": interaction.type,
            "user": user,
            "authorizing_integration_owners": payload["authorizing_integration_owners"],
            "name": interaction.name,
        },
    }


IMAGE_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF8": "image/gif",
}


def sniff(data: bytes) -> str | None:
    """The image type of an upload from its first bytes, as Discord decides it (discord.py sends
    every file as application/octet-stream)."""
    for magic, mime in IMAGE_MAGIC.items():
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


async def _body(request: web.Request) -> tuple[Any, list[Json]]:
    """The JSON body and, for a multipart request (a message with files), the uploads."""
    if not request.can_read_body:
        return None, []
    if request.content_type == "multipart/form-data":
        body: Any = None
        files: list[Json] = []
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader):
                continue
            data = await part.read()
            if part.name == "payload_json":
                body = json.loads(data)
            elif part.name and (found := re.fullmatch(r"files\[(\d+)\]", part.name)):
                files.append(
                    {
                        "index": int(found[1]),
                        "filename": part.filename or "unknown",
                        "size": len(data),
                        "content_type": sniff(bytes(data)) or part.headers.get("Content-Type", ""),
                        "data": bytes(data),
                    }
                )
        return body, files
    text = await request.text()
    if not text:
        return None, []
    try:
        return json.loads(text), []
    except ValueError:
        return text, []
