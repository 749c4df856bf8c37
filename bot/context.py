"""What the bot needs from the running service, built once by the entry point (or by tests)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from shared.catalog import Catalog
from shared.service import RoomService
from shared.settings import Settings
from shared.tokens import Tokens


def _ignore(connected: bool) -> None:
    pass


@dataclass
class BotContext:
    settings: Settings
    service: RoomService
    catalog: Catalog
    # Signs invites to private rooms exactly as the web server checks them (same key and salt).
    tokens: Tokens
    # Told True when the bot is connected to Discord and False when it is not; the entry point
    # turns it into the web server's /health `bot.connected`.
    on_connection: Callable[[bool], None] = field(default=_ignore)

    @classmethod
    def build(
        cls,
        settings: Settings,
        service: RoomService,
        catalog: Catalog,
        on_connection: Callable[[bool], None] = _ignore,
    ) -> BotContext:
        return cls(settings, service, catalog, Tokens(settings.secret()), on_connection)
