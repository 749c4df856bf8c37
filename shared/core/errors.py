"""Domain errors: raised by the core when a command is refused. The room is left unchanged."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Stable, machine-readable reasons that adapters pass on (acks, HTTP bodies, Discord)."""

    INVALID_ARGUMENT = "invalid_argument"
    ILLEGAL_STATE = "illegal_state"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    QUEUE_FULL = "queue_full"
    NOTHING_TO_PLAY = "nothing_to_play"
    STALE = "stale"


class DomainError(Exception):
    """A command the room refuses. `code` is for programs, the message is for people."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"DomainError({self.code.value!r}, {self.message!r})"


def invalid(message: str) -> DomainError:
    return DomainError(ErrorCode.INVALID_ARGUMENT, message)
