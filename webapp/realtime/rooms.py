"""Ids for new rooms: readable for public rooms (from the name), unguessable for private ones."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable

from shared.core import Room


def slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return text[:40].strip("-") or "room"


def new_room_id(name: str, private: bool, exists: Callable[[str], Room | None]) -> str:
    if private:
        return "p-" + secrets.token_hex(10)  # an id nobody can guess: the invite is the key
    base = slug(name)
    candidate = base
    while exists(candidate) is not None:
        candidate = f"{base}-{secrets.token_hex(2)}"
    return candidate
