"""Interactions the fake sends (slash commands, autocomplete, button presses) and what became of
each one: the callback the bot posted, and the message that answered it."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from .payloads import (
    APPLICATION_COMMAND,
    APPLICATION_COMMAND_AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    Json,
    World,
)

# Interaction callback types
PONG = 1
CHANNEL_MESSAGE_WITH_SOURCE = 4
DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
APPLICATION_COMMAND_AUTOCOMPLETE_RESULT = 8
MODAL = 9

ALLOWED_CALLBACKS = {
    APPLICATION_COMMAND: {CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, MODAL},
    MESSAGE_COMPONENT: {
        CHANNEL_MESSAGE_WITH_SOURCE,
        DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
        MODAL,
    },
    APPLICATION_COMMAND_AUTOCOMPLETE: {APPLICATION_COMMAND_AUTOCOMPLETE_RESULT},
}

OPTION_STRING, OPTION_INTEGER, OPTION_BOOLEAN, OPTION_NUMBER = 3, 4, 5, 10
OPTION_USER, OPTION_CHANNEL, OPTION_ROLE, OPTION_MENTIONABLE = 6, 7, 8, 9


@dataclass
class Interaction:
    id: int
    token: str
    type: int
    payload: Json
    sent_at: float = field(default_factory=time.monotonic)
    callback: Json | None = None  # the callback body the bot posted
    callback_after: float | None = None  # seconds from dispatch to callback
    original_id: int | None = None  # the response message (for a component: the message edited)
    followup_ids: list[int] = field(default_factory=list)

    @property
    def name(self) -> str:
        data = self.payload.get("data") or {}
        return str(data.get("name") or data.get("custom_id"))


def base(world: World, interaction_id: int, kind: int, user_name: str, channel_id: int) -> Json:
    guild = world.guild
    person = world.user_named(user_name)
    channel = guild.channel(channel_id)
    if channel is None:
        raise ValueError(f"no channel {channel_id} in the fake guild")
    member = dict(guild.members[int(person["id"])])
    member["permissions"] = str(guild.permissions_of(int(person["id"])))
    return {
        "id": str(interaction_id),
        "application_id": str(world.application_id),
        "type": kind,
        "token": f"itoken-{secrets.token_urlsafe(24)}",
        "version": 1,
        "guild_id": str(guild.id),
        "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
        "channel_id": str(channel_id),
        "channel": {**channel, "guild_id": str(guild.id)},
        "member": member,
        "app_permissions": str(guild.permissions_of(world.application_id)),
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(guild.id)},
        "context": 0,
        "attachment_size_limit": 10 * 1024 * 1024,
    }


SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2


def command_options(
    command: Json, path: list[str], values: dict[str, Any], *, focused: str | None = None
) -> list[Json]:
    """Interaction options for `values`, typed from the registered command's option list (as
    Discord does: its client cannot send an option the command does not declare, a value
    outside the declared choices or bounds, or leave out a required one). `path` names the
    subcommand group and subcommand, e.g. ["role"] for `/dj role`."""
    declared = {o["name"]: o for o in command.get("options") or []}
    where = f"/{command['name']}"
    if path:
        sub = declared.get(path[0])
        if sub is None or sub["type"] not in (SUB_COMMAND, SUB_COMMAND_GROUP):
            raise KeyError(f"{where} has no subcommand {path[0]!r}: {sorted(declared)}")
        inner = command_options(sub, path[1:], values, focused=focused)
        return [{"name": sub["name"], "type": sub["type"], "options": inner}]
    if any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in declared.values()):
        raise KeyError(f"{where} needs a subcommand: one of {sorted(declared)}")
    options: list[Json] = []
    for name, value in values.items():
        if name not in declared:
            raise KeyError(f"{where} declares no option {name!r}: {sorted(declared)}")
        spec = declared[name]
        if name != focused:
            _check_value(f"{where} {name}", spec, value)
        option: Json = {"name": name, "type": spec["type"], "value": value}
        if spec["type"] in (OPTION_USER, OPTION_CHANNEL, OPTION_ROLE, OPTION_MENTIONABLE):
            option["value"] = str(value)
        if name == focused:
            option["focused"] = True
        options.append(option)
    missing = [
        o["name"]
        for o in declared.values()
        if o.get("required") and o["name"] not in values and focused is None
    ]
    if missing:
        raise KeyError(f"{where} needs option(s) {missing}")
    return options


def _check_value(where: str, spec: Json, value: Any) -> None:
    """What Discord's client enforces before it sends a command at all."""
    choices = [c["value"] for c in spec.get("choices") or []]
    if choices and value not in choices:
        raise ValueError(f"{where}: {value!r} is not one of the choices {choices}")
    if spec["type"] == OPTION_STRING:
        if not isinstance(value, str):
            raise TypeError(f"{where}: a string option needs a string, not {value!r}")
        if not spec.get("min_length", 0) <= len(value) <= spec.get("max_length", 6000):
            raise ValueError(f"{where}: length {len(value)} outside the declared bounds")
    if spec["type"] in (OPTION_INTEGER, OPTION_NUMBER):
        if spec["type"] == OPTION_INTEGER and not isinstance(value, int):
            raise TypeError(f"{where}: an integer option needs an int, not {value!r}")
        low, high = spec.get("min_value"), spec.get("max_value")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"{where}: {value} outside [{low}, {high}]")


def _leaves(options: list[Json]) -> list[Json]:
    found: list[Json] = []
    for option in options:
        if option["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP):
            found += _leaves(option.get("options") or [])
        else:
            found.append(option)
    return found


def command_data(command: Json, options: list[Json], world: World) -> Json:
    data: Json = {
        "id": command["id"],
        "name": command["name"],
        "type": command.get("type", 1),
        "options": options,
    }
    if command.get("guild_id"):
        data["guild_id"] = command["guild_id"]
    resolved = _resolved(_leaves(options), world)
    if resolved:
        data["resolved"] = resolved
    return data


def _resolved(options: list[Json], world: World) -> Json:
    """Users and members named by user options, as Discord attaches them."""
    users: Json = {}
    members: Json = {}
    roles: Json = {}
    for option in options:
        if option["type"] in (OPTION_USER, OPTION_MENTIONABLE):
            member = world.guild.members.get(int(option["value"]))
            if member is not None:
                users[option["value"]] = member["user"]
                members[option["value"]] = {k: v for k, v in member.items() if k != "user"}
        if option["type"] in (OPTION_ROLE, OPTION_MENTIONABLE):
            for item in world.guild.roles:
                if item["id"] == option["value"]:
                    roles[item["id"]] = item
    resolved: Json = {}
    if users:
        resolved["users"], resolved["members"] = users, members
    if roles:
        resolved["roles"] = roles
    return resolved
