"""Argument checks shared by the core's constructors and commands."""

from __future__ import annotations

import math
import unicodedata

from .errors import invalid

NAME_MAX = 32
# Control, format (bidi overrides, invisible marks), surrogate, private and unassigned characters.
HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
ZWJ = "\u200d"  # joins emoji sequences (family, flags), so names may keep it


def finite_number(value: object, what: str) -> float:
    """Accept ints and floats that are finite; refuse bools, strings, NaN and infinities."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(f"{what} must be a number, not {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise invalid(f"{what} must be a finite number, not {value!r}")
    return number


def clean_name(value: object, what: str = "name", max_len: int = NAME_MAX) -> str:
    """A display name: trimmed, 1..max_len characters, no control or format characters.

    Names are always rendered as text by the adapters; this check keeps them printable and short.
    """
    if not isinstance(value, str):
        raise invalid(f"{what} must be text")
    name = " ".join(value.split())
    if not name:
        raise invalid(f"{what} must not be empty")
    if len(name) > max_len:
        raise invalid(f"{what} must be at most {max_len} characters")
    if any(unicodedata.category(ch) in HIDDEN and ch != ZWJ for ch in name):
        raise invalid(f"{what} contains characters that cannot be shown")
    return name


def identifier(value: object, what: str) -> str:
    """Opaque ids (users, entries, tracks): non-empty printable text of bounded length."""
    if not isinstance(value, str) or not value or len(value) > 128 or not value.isprintable():
        raise invalid(f"{what} must be a non-empty id")
    return value
