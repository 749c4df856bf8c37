"""Settings: one pydantic-settings class, read from the environment and `.env` at start-up.

`load_settings()` turns every invalid value into one line naming the variable, so start-up can stop
with a clear message instead of a traceback.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Annotated, Literal

from limits import parse_many
from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.core import ControlMode, Policy

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    music_dir: Path = Field(Path("music"), description="Folder whose audio files are the library")
    data_dir: Path = Field(Path("data"), description="Databases, cover art, demo tracks, secret")
    host: str = Field("127.0.0.1", min_length=1, description="Address to listen on")
    port: int = Field(8000, ge=1, le=65535)
    log_level: LogLevel = "INFO"
    public_url: AnyHttpUrl | None = Field(
        None, description="Base URL people use to reach the player (tunnel or proxy)"
    )
    secret_key: SecretStr | None = Field(None, description="Signs invites; generated if unset")
    discord_token: SecretStr | None = None
    discord_guild_id: int | None = Field(None, gt=0)
    discord_private_rooms: bool = Field(
        False, description="Channel rooms are private: unlisted on the web, joined by invite"
    )
    discord_rate_limit: str = Field(
        "5/5 seconds;60/minute", description="Slash commands and buttons per Discord user"
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Room policy defaults for new rooms.
    room_control: ControlMode = ControlMode.EVERYONE
    room_listeners_can_queue: bool = True
    room_autoplay: bool = True
    room_max_queue: int = Field(500, ge=1, le=10_000)
    room_empty_grace: float = Field(900.0, ge=0, description="Seconds an empty room is kept")

    rescan_interval: float = Field(
        300.0, ge=0, description="Seconds between library rescans; 0 turns them off"
    )

    # Connections and abuse.
    reconnect_grace: float = Field(
        30.0, ge=0, le=3600, description="Seconds a dropped listener stays a member"
    )
    http_rate_limit: str = Field("100/second;3000/minute", description="HTTP requests per address")
    connect_rate_limit: str = Field(
        "60/10 seconds;600/minute", description="Socket.IO connections per address"
    )
    ws_per_message_deflate: bool = Field(
        False, description="Compress WebSocket messages (bench/fanout: slower broadcasts)"
    )

    @field_validator("http_rate_limit", "connect_rate_limit", "discord_rate_limit")
    @classmethod
    def _limit_syntax(cls, value: str) -> str:
        try:
            if parse_many(value):
                return value
        except ValueError:
            pass
        raise ValueError(f"{value!r} is not a rate limit like '100/second;3000/minute'")

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if not origin.startswith(("http://", "https://")) or origin.count("/") != 2:
                raise ValueError(f"{origin!r} is not an origin like https://example.org")
        return origins

    @field_validator("discord_token", "secret_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("discord_guild_id", "public_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("music_dir")
    @classmethod
    def _music_exists(cls, folder: Path) -> Path:
        if not folder.is_dir():
            raise ValueError(f"folder {str(folder)!r} does not exist")
        return folder.resolve()

    @field_validator("data_dir")
    @classmethod
    def _data_usable(cls, folder: Path) -> Path:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"cannot create folder {str(folder)!r}: {exc.strerror}") from None
        if not os.access(folder, os.W_OK):
            raise ValueError(f"folder {str(folder)!r} is not writable")
        return folder.resolve()

    @model_validator(mode="after")
    def _default_public_url(self) -> Settings:
        if self.public_url is None:
            self.public_url = AnyHttpUrl(f"http://localhost:{self.port}")
        return self

    # -- derived -----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """PUBLIC_URL without a trailing slash, for building links."""
        return str(self.public_url).rstrip("/")

    @property
    def demo_dir(self) -> Path:
        return self.data_dir / "demo"

    @property
    def cover_dir(self) -> Path:
        return self.data_dir / "covers"

    @property
    def library_db(self) -> Path:
        return self.data_dir / "library.db"

    @property
    def rooms_db(self) -> Path:
        return self.data_dir / "rooms.db"

    @property
    def discord_db(self) -> Path:
        """The bot's own memory: which channel is which room, DJ roles, the synced commands."""
        return self.data_dir / "discord.db"

    def room_policy(self) -> Policy:
        return Policy(
            control=self.room_control,
            listeners_can_queue=self.room_listeners_can_queue,
            autoplay=self.room_autoplay,
            max_queue=self.room_max_queue,
        )

    def secret(self) -> str:
        """SECRET_KEY, or a key generated once and kept in DATA_DIR (readable by the owner only)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
        logging.getLogger("lockstep").info("generated a secret key in %s", path)
        return key


class SettingsError(Exception):
    """Invalid configuration; `lines` holds one human-readable line per problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError([_describe(error) for error in exc.errors()]) from None


def _describe(error: object) -> str:
    assert isinstance(error, dict)
    location = [str(part) for part in error.get("loc", ()) if isinstance(part, str)]
    variable = location[0].upper() if location else "configuration"
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    value = error.get("input")
    shown = "" if value is None or isinstance(value, dict) else f" (got {str(value)[:60]!r})"
    if variable in {"DISCORD_TOKEN", "SECRET_KEY"}:
        shown = ""  # never echo secrets
    return f"{variable}: {message}{shown}"
