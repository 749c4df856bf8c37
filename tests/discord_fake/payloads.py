"""Discord-shaped JSON: the users, guild, channels, messages and interactions the fake serves.

Field names and types follow Discord's API reference (v10). Only what a bot reads is filled in,
but everything filled in has the shape Discord sends, so discord.py parses it as it would the
real thing."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Json = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000

# Permission bits (https://discord.com/developers/docs/topics/permissions)
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
CONNECT = 1 << 20
SPEAK = 1 << 21
USE_APPLICATION_COMMANDS = 1 << 31
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1

EVERYONE_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | CONNECT
    | SPEAK
    | USE_APPLICATION_COMMANDS
    | SEND_MESSAGES_IN_THREADS
)

# Channel types
GUILD_TEXT = 0
GUILD_VOICE = 2

# Interaction types
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
APPLICATION_COMMAND_AUTOCOMPLETE = 4

# Message flags
EPHEMERAL = 1 << 6
LOADING = 1 << 7

# Gateway intents that decide which events a session hears
GUILD_MEMBERS_INTENT = 1 << 1
GUILD_MESSAGES_INTENT = 1 << 9


class Snowflakes:
    """Ids in Discord's format (milliseconds since 2015 in the high bits), unique per fake."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def next(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (next(self._counter) & 0x3FFFFF)


def timestamp() -> str:
    return datetime.now(UTC).isoformat()


def user(user_id: int, name: str, *, bot: bool = False) -> Json:
    return {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": None if bot else name.capitalize(),
        "avatar": None,
        "bot": bot,
        "system": False,
        "public_flags": 0,
        "flags": 0,
    }


def role(role_id: int, name: str, permissions: int, *, position: int) -> Json:
    return {
        "id": str(role_id),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(permissions),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def text_channel(channel_id: int, name: str, *, position: int = 0) -> Json:
    return {
        "id": str(channel_id),
        "type": GUILD_TEXT,
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "parent_id": None,
        "topic": None,
        "nsfw": False,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }


def voice_channel(channel_id: int, name: str, *, position: int = 0) -> Json:
    return {
        "id": str(channel_id),
        "type": GUILD_VOICE,
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "parent_id": None,
        "nsfw": False,
        "bitrate": 64000,
        "user_limit": 0,
        "rtc_region": None,
        "flags": 0,
    }


@dataclass
class Guild:
    """One guild as Discord knows it: roles, channels and members, plus handy ids."""

    id: int
    name: str
    owner_id: int
    roles: list[Json]
    channels: list[Json]
    members: dict[int, Json]  # user id -> guild member (with its "user")
    joined_at: str = field(default_factory=timestamp)
    voice: dict[int, int] = field(default_factory=dict)  # user id -> voice channel they are in

    def voice_state(self, user_id: int, channel_id: int | None) -> Json:
        """A VOICE_STATE_UPDATE body (channel_id None: left voice)."""
        return {
            "guild_id": str(self.id),
            "channel_id": None if channel_id is None else str(channel_id),
            "user_id": str(user_id),
            "member": self.members[user_id],
            "session_id": f"voice-{user_id}",
            "deaf": False,
            "mute": False,
            "self_deaf": False,
            "self_mute": False,
            "self_stream": False,
            "self_video": False,
            "suppress": False,
            "request_to_speak_timestamp": None,
        }

    def channel(self, channel_id: int) -> Json | None:
        for channel in self.channels:
            if int(channel["id"]) == channel_id:
                return channel
        return None

    def permissions_of(self, user_id: int) -> int:
        """The member's guild-level permissions (no channel overwrites are used here)."""
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        member = self.members[user_id]
        held = {str(self.id), *member["roles"]}
        value = 0
        for item in self.roles:
            if item["id"] in held:
                value |= int(item["permissions"])
        return ALL_PERMISSIONS if value & ADMINISTRATOR else value

    def create_payload(self, *, only_member: int | None = None) -> Json:
        """The GUILD_CREATE event body: the whole guild, as a bot receives it on connecting
        (`only_member`: the one member listed, for a session without the members intent)."""
        members = [m for uid, m in self.members.items() if only_member in (None, uid)]
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "application_id": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "features": [],
            "roles": self.roles,
            "emojis": [],
            "stickers": [],
            "channels": self.channels,
            "threads": [],
            "members": members,
            "member_count": len(self.members),
            "large": False,
            "unavailable": False,
            "joined_at": self.joined_at,
            "voice_states": [
                {k: v for k, v in self.voice_state(uid, cid).items() if k != "guild_id"}
                for uid, cid in self.voice.items()
            ],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "lazy": True,
        }


def member(user_payload: Json, roles: list[int]) -> Json:
    return {
        "user": user_payload,
        "nick": None,
        "avatar": None,
        "banner": None,
        "roles": [str(r) for r in roles],
        "joined_at": timestamp(),
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "communication_disabled_until": None,
    }


@dataclass
class World:
    """Everything the fake Discord knows: the application, its bot user, one guild of people."""

    application_id: int
    bot: Json
    owner: Json  # owns the application and the guild
    guild: Guild
    users: dict[str, Json]  # by username: "alice" (Manage Server), "bob" (nobody), "dana" (DJ)
    text_channel_id: int
    voice_channel_id: int
    dj_role_id: int
    admin_role_id: int

    @classmethod
    def create(cls, ids: Snowflakes) -> World:
        application_id = ids.next()
        bot = user(application_id, "lockstep", bot=True)
        guild_id = ids.next()
        owner = user(ids.next(), "olga")
        people = {name: user(ids.next(), name) for name in ("alice", "bob", "dana")}
        admin_role_id, dj_role_id, bot_role_id = ids.next(), ids.next(), ids.next()
        roles = [
            role(guild_id, "@everyone", EVERYONE_PERMISSIONS, position=0),
            role(dj_role_id, "DJ", 0, position=1),
            role(admin_role_id, "Moderators", MANAGE_GUILD, position=2),
            role(bot_role_id, "Lockstep", EVERYONE_PERMISSIONS, position=3),
        ]
        text_id, voice_id = ids.next(), ids.next()
        members = {
            int(bot["id"]): member(bot, [bot_role_id]),
            int(owner["id"]): member(owner, []),
            int(people["alice"]["id"]): member(people["alice"], [admin_role_id]),
            int(people["bob"]["id"]): member(people["bob"], []),
            int(people["dana"]["id"]): member(people["dana"], [dj_role_id]),
        }
        guild = Guild(
            id=guild_id,
            name="Listening Club",
            owner_id=int(owner["id"]),
            roles=roles,
            channels=[text_channel(text_id, "listening"), voice_channel(voice_id, "Lounge")],
            members=members,
        )
        return cls(
            application_id=application_id,
            bot=bot,
            owner=owner,
            guild=guild,
            users={"olga": owner, **people},
            text_channel_id=text_id,
            voice_channel_id=voice_id,
            dj_role_id=dj_role_id,
            admin_role_id=admin_role_id,
        )

    def application(self) -> Json:
        """GET /oauth2/applications/@me."""
        return {
            "id": str(self.application_id),
            "name": "Lockstep",
            "icon": None,
            "description": "Listening parties",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": self.owner,
            "team": None,
            "flags": 0,
            "bot": self.bot,
            "approximate_guild_count": 1,
            "install_params": None,
            "integration_types_config": {"0": {}},
        }

    def user_named(self, name: str) -> Json:
        return self.users[name]


# Message flags a bot may set when sending: SUPPRESS_EMBEDS, EPHEMERAL, SUPPRESS_NOTIFICATIONS
SENDABLE_FLAGS = (1 << 2) | EPHEMERAL | (1 << 12)


def message(
    message_id: int,
    channel_id: int,
    author: Json,
    body: Json,
    *,
    attachments: list[Json],
    guild_id: int | None = None,
    flags: int = 0,
    message_type: int = 0,
    extra: Json | None = None,
) -> Json:
    """A message as Discord returns it after a create, from the JSON body the bot sent."""
    payload: Json = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "author": author,
        "content": body.get("content") or "",
        "timestamp": timestamp(),
        "edited_timestamp": None,
        "tts": bool(body.get("tts", False)),
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": attachments,
        "embeds": resolve_attachments(body.get("embeds") or [], attachments),
        "components": body.get("components") or [],
        "pinned": False,
        "type": message_type,
        "flags": flags | (int(body.get("flags") or 0) & SENDABLE_FLAGS),
    }
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
    if extra:
        payload.update(extra)
    return payload


def edit_message(current: Json, body: Json, attachments: list[Json]) -> Json:
    """Apply a PATCH body: only the fields sent change (null clears), as Discord does."""
    edited = dict(current)
    for key in ("content", "embeds", "components"):
        if key in body:
            value = body[key]
            edited[key] = ("" if key == "content" else []) if value is None else value
    edited["attachments"] = attachments
    edited["embeds"] = resolve_attachments(edited["embeds"], attachments)
    if "flags" in body and body["flags"] is not None:
        # Only SUPPRESS_EMBEDS can change on an edit; loading and ephemeral stay as they were.
        edited["flags"] = (current["flags"] & ~(1 << 2)) | (int(body["flags"]) & (1 << 2))
    edited["flags"] &= ~LOADING
    edited["edited_timestamp"] = timestamp()
    return edited


def attachment(attachment_id: int, channel_id: int, upload: Json, base_url: str) -> Json:
    url = f"{base_url}/attachments/{channel_id}/{attachment_id}/{upload['filename']}"
    return {
        "id": str(attachment_id),
        "filename": upload["filename"],
        "size": upload["size"],
        "url": url,
        "proxy_url": url,
        "content_type": upload["content_type"],
        "flags": 0,
    }


def resolve_attachments(embeds: list[Json], attachments: list[Json]) -> list[Json]:
    """Discord replaces `attachment://name` in an embed with the attached file's URL (and shows
    nothing when no such file is attached)."""
    by_name = {a["filename"]: a for a in attachments}
    resolved = []
    for embed in embeds:
        embed = dict(embed)
        for key in ("image", "thumbnail"):
            url = (embed.get(key) or {}).get("url")
            if isinstance(url, str) and url.startswith("attachment://"):
                found = by_name.get(url.removeprefix("attachment://"))
                if found is None:
                    embed.pop(key)
                else:
                    embed[key] = {**embed[key], "url": found["url"], "proxy_url": found["url"]}
        resolved.append(embed)
    return resolved
