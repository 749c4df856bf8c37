"""A recording fake of Discord's HTTP side, for driving LockstepBot with real `discord.Interaction`
objects built from interaction payloads (as discord.py's own tests do).

Two doors lead out of discord.py to Discord's servers, and both are replaced here:
- `RecordingHTTP`, a `discord.http.HTTPClient` whose `request` answers REST routes (login,
  application info, command sync, channel messages) from here and records every call;
- `RecordingWebhooks`, the `AsyncWebhookAdapter` that interaction responses, edits and
  follow-ups go through (`discord.webhook.async_.async_context`).
Everything between the payload and those two doors is discord.py and Lockstep, unmodified.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import discord
from discord.http import HTTPClient, Route
from discord.webhook.async_ import AsyncWebhookAdapter

APP_ID = 900000000000000001
BOT_ID = 900000000000000002
GUILD_ID = 800000000000000001
CHANNEL_ID = 700000000000000001
ADMIN_ID = 600000000000000001
ANA_ID = 600000000000000002
BO_ID = 600000000000000003
DJ_ROLE_ID = 500000000000000001

MANAGE_GUILD = discord.Permissions(manage_guild=True).value
MEMBER_PERMS = discord.Permissions(send_messages=True, view_channel=True).value
EPHEMERAL = 64

_ids = itertools.count(100000000000000001)


def snowflake() -> int:
    return next(_ids)


@dataclass
class Call:
    method: str
    path: str  # the route template, e.g. /channels/{channel_id}/messages
    url: str
    json: Any
    response: Any = None  # what the fake answered

    @property
    def posted(self) -> dict[str, Any]:
        """The message Discord made of this call (for pressing its buttons afterwards)."""
        answer = self.response
        if isinstance(answer, dict) and "resource" in answer:
            return dict(answer["resource"]["message"])
        return dict(answer)

    @property
    def flags(self) -> int:
        data = self.json.get("data") if isinstance(self.json, dict) else None
        source = data if isinstance(data, dict) else self.json
        return int(source.get("flags", 0) or 0) if isinstance(source, dict) else 0

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def message(self) -> dict[str, Any]:
        """The message body: an interaction response's `data`, or the payload itself."""
        if self.path.endswith("/callback"):
            return dict(self.json.get("data") or {})
        return dict(self.json or {})

    @property
    def content(self) -> str:
        return str(self.message.get("content") or "")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return list(self.message.get("embeds") or [])

    @property
    def buttons(self) -> list[dict[str, Any]]:
        rows = self.message.get("components") or []
        return [c for row in rows for c in row.get("components", [])]


def user(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name.lower(),
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
    }


def message(channel_id: int, body: dict[str, Any], message_id: int | None = None) -> dict[str, Any]:
    return {
        "id": str(message_id or snowflake()),
        "channel_id": str(channel_id),
        "author": user(BOT_ID, "Lockstep", bot=True),
        "content": body.get("content") or "",
        "timestamp": "2026-01-01T00:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": body.get("embeds") or [],
        "components": body.get("components") or [],
        "pinned": False,
        "type": 0,
        "flags": body.get("flags", 0) or 0,
    }


def _body(payload: Any, multipart: Iterable[dict[str, Any]] | None) -> Any:
    if payload is None and multipart:
        for part in multipart:
            if part.get("name") == "payload_json":
                return json.loads(part["value"])
    return payload


def limit_problems(body: Any) -> list[str]:
    """What Discord would refuse (400) in a message body: its documented size limits."""
    if not isinstance(body, dict):
        return []
    problems = []
    if len(body.get("content") or "") > 2000:
        problems.append("content over 2000 characters")
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        problems.append("more than 10 embeds")
    for embed in embeds:
        for key, most in (("title", 256), ("description", 4096)):
            if len(embed.get(key) or "") > most:
                problems.append(f"embed {key} over {most} characters")
        if len((embed.get("footer") or {}).get("text") or "") > 2048:
            problems.append("embed footer over 2048 characters")
    rows = body.get("components") or []
    if len(rows) > 5:
        problems.append("more than 5 component rows")
    for row in rows:
        items = row.get("components") or []
        if len(items) > 5:
            problems.append("more than 5 buttons in a row")
        for item in items:
            if len(item.get("label") or "") > 80:
                problems.append("button label over 80 characters")
            if len(item.get("custom_id") or "") > 100:
                problems.append("custom_id over 100 characters")
            if len(item.get("url") or "") > 512:
                problems.append("button url over 512 characters")
    for choice in body.get("choices") or []:  # an autocomplete result
        if not 1 <= len(choice["name"]) <= 100 or len(str(choice["value"])) > 100:
            problems.append(f"choice {choice['name'][:20]!r} out of limits")
    return problems


class Recorder:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.changed = asyncio.Event()
        self.problems: list[str] = []  # what Discord would have refused, per call

    def record(self, call: Call) -> None:
        self.calls.append(call)
        body = call.json
        if call.path.endswith("/callback") and isinstance(body, dict):
            body = body.get("data")  # the message (or autocomplete result) of the response
        self.problems += [f"{call.method} {call.path}: {p}" for p in limit_problems(body)]
        self.changed.set()

    def to(self, fragment: str, method: str | None = None) -> list[Call]:
        return [
            c for c in self.calls if fragment in c.path and (method is None or c.method == method)
        ]

    def clear(self) -> None:
        self.calls.clear()


class RecordingHTTP(HTTPClient):
    """Discord's REST API as far as the bot uses it, answered locally and recorded."""

    def __init__(self, loop: asyncio.AbstractEventLoop, recorder: Recorder) -> None:
        super().__init__(loop)
        self.recorder = recorder
        self.fail_sync = False

    async def request(
        self, route: Route, *, files: Any = None, form: Any = None, **kwargs: Any
    ) -> Any:
        body = kwargs.get("json")
        if body is None and form:
            body = _body(None, form)
        call = Call(route.method, route.path, route.url, body)
        self.recorder.record(call)
        call.response = self.answer(call, route)
        return call.response

    def answer(self, call: Call, route: Route) -> Any:
        path, method = call.path, call.method
        if path == "/users/@me":
            return user(BOT_ID, "Lockstep", bot=True)
        if path == "/oauth2/applications/@me":
            return {
                "id": str(APP_ID),
                "name": "Lockstep",
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": user(ADMIN_ID, "Owner"),
                "verify_key": "0" * 64,
                "flags": 0,
            }
        if path.endswith("/commands") and method == "PUT":
            if self.fail_sync:
                raise discord.HTTPException(_Response(500), {"message": "down", "code": 0})
            return [
                {**cmd, "id": str(snowflake()), "application_id": str(APP_ID), "version": "1"}
                for cmd in call.json
            ]
        if path == "/channels/{channel_id}/messages" and method == "POST":
            return message(int(route.channel_id or 0), call.json or {})  # type: ignore[attr-defined]
        if path.startswith("/channels/{channel_id}/messages/{message_id}") and method == "PATCH":
            return message(
                int(route.channel_id or 0),  # type: ignore[attr-defined]
                call.json or {},
                int(route.message_id),  # type: ignore[attr-defined]
            )
        if method == "GET" and path == "/channels/{channel_id}/messages":
            return []
        return None if method == "DELETE" else {}


class _Response:
    """Just enough of aiohttp's response for discord.HTTPException."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.reason = "fake"


class RecordingWebhooks(AsyncWebhookAdapter):
    """Interaction responses, edits of the original response, and follow-ups."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self.recorder = recorder

    async def request(  # type: ignore[override]
        self,
        route: Route,
        session: Any,
        *,
        payload: dict[str, Any] | None = None,
        multipart: list[dict[str, Any]] | None = None,
        files: Any = None,
        **kwargs: Any,
    ) -> Any:
        body = _body(payload, multipart)
        call = Call(route.method, route.path, route.url, body)
        self.recorder.record(call)
        call.response = self.answer(call, route, body)
        return call.response

    def answer(self, call: Call, route: Route, body: Any) -> Any:
        if call.path.endswith("/callback"):
            data = body.get("data") or {}
            kind = int(body["type"])
            msg = message(CHANNEL_ID, data) if kind in (4, 7) else None
            return {
                "interaction": {
                    "id": str(route.webhook_id),
                    "type": 2,
                    "response_message_id": msg["id"] if msg else None,
                    "response_message_loading": kind == 5,
                    "response_message_ephemeral": bool(int(data.get("flags", 0) or 0) & EPHEMERAL),
                },
                "resource": {"type": kind, "message": msg} if msg else {"type": kind},
            }
        if route.method == "DELETE":
            return None
        return message(CHANNEL_ID, body or {})


@dataclass
class Member:
    user_id: int
    name: str
    permissions: int = MEMBER_PERMS
    roles: list[int] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        return {
            "user": user(self.user_id, self.name),
            "roles": [str(r) for r in self.roles],
            "joined_at": "2026-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": str(self.permissions),
        }


ADMIN = Member(ADMIN_ID, "Admin", MANAGE_GUILD | MEMBER_PERMS)
ANA = Member(ANA_ID, "Ana")
BO = Member(BO_ID, "Bo")


def channel(channel_id: int = CHANNEL_ID, name: str = "party") -> dict[str, Any]:
    return {
        "id": str(channel_id),
        "type": 0,
        "name": name,
        "guild_id": str(GUILD_ID),
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
    }


def _base(kind: int, member: Member | None, channel_data: dict[str, Any] | None) -> dict[str, Any]:
    iid = snowflake()
    data: dict[str, Any] = {
        "id": str(iid),
        "application_id": str(APP_ID),
        "type": kind,
        "token": f"token-{iid}",
        "version": 1,
        "locale": "en-US",
        "app_permissions": str(discord.Permissions.all().value),
        "attachment_size_limit": 8 * 1024 * 1024,
        "entitlements": [],
        "authorizing_integration_owners": {},
    }
    if member is not None:
        data |= {
            "guild_id": str(GUILD_ID),
            "guild_locale": "en-US",
            "member": member.payload(),
            "context": 0,
        }
        channel_data = channel_data or channel()
        data |= {"channel": channel_data, "channel_id": channel_data["id"]}
    else:
        data |= {"user": user(ANA_ID, "Ana"), "context": 1}
        data |= {"channel": {"id": "1", "type": 1, "recipients": []}, "channel_id": "1"}
    return data


def option(name: str, value: Any, kind: int = 3, *, focused: bool = False) -> dict[str, Any]:
    opt: dict[str, Any] = {"name": name, "type": kind, "value": value}
    if focused:
        opt["focused"] = True
    return opt


def slash(
    name: str,
    *options: dict[str, Any],
    member: Member | None = ANA,
    channel_data: dict[str, Any] | None = None,
    autocomplete: bool = False,
    group: str | None = None,
    resolved: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An APPLICATION_COMMAND (or AUTOCOMPLETE) interaction for `/name` with `options`."""
    data = _base(4 if autocomplete else 2, member, channel_data)
    opts = list(options)
    command = name
    if group is not None:
        command = group
        opts = [{"name": name, "type": 1, "options": opts}]
    data["data"] = {"id": str(snowflake()), "name": command, "type": 1, "options": opts}
    if resolved:
        data["data"]["resolved"] = resolved
    return data


def press(
    custom_id: str,
    message_data: dict[str, Any],
    *,
    member: Member = ANA,
    channel_data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A button press (MESSAGE_COMPONENT interaction) on `message_data`."""
    data = _base(3, member, channel_data)
    data["data"] = {"custom_id": custom_id, "component_type": 2}
    data["message"] = message_data
    return data
