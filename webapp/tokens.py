"""The signed tokens live in `shared.tokens` (the bot signs invites with the same key and salt);
re-exported here for the web app's modules."""

from shared.tokens import Tokens

__all__ = ["Tokens"]
