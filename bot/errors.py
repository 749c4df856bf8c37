"""How refusals reach Discord users: one exception type with a message that says what to do, and
the room's domain error codes in plain words. Every cog and view raises these; the tree's one error
handler (bot/client.py) sends them as ephemeral messages."""

from __future__ import annotations

from discord import app_commands

from shared.core import DomainError, ErrorCode


class Refusal(app_commands.CheckFailure):
    """A request the bot turns down. `str(refusal)` is shown to the user as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SlowDown(Refusal):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"Slow down: try again in {retry_after:.1f} s.")
        self.retry_after = retry_after


# What to do, per code. The core's own message (e.g. "already paused") goes first.
ADVICE: dict[ErrorCode, str] = {
    ErrorCode.INVALID_ARGUMENT: "Check the value and try again.",
    ErrorCode.ILLEGAL_STATE: "Check /nowplaying for what the room is doing.",
    ErrorCode.FORBIDDEN: "Ask someone with the DJ role or Manage Server.",
    ErrorCode.NOT_FOUND: "See /queue for what is queued.",
    ErrorCode.QUEUE_FULL: "Remove something with /remove, or ask an admin to raise the limit.",
    ErrorCode.NOTHING_TO_PLAY: "Add a track with /play.",
    ErrorCode.STALE: "The room just changed; try again.",
}


def explain(error: DomainError) -> str:
    """A domain error as a sentence for a Discord user."""
    message = error.message[:1].upper() + error.message[1:]
    if not message.endswith((".", "!", "?")):
        message += "."
    advice = ADVICE.get(error.code)
    if error.code is ErrorCode.ILLEGAL_STATE and "nothing is playing" in error.message:
        advice = "Start something with /play."
    return f"{message} {advice}" if advice else message
