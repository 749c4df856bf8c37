"""The real-time room protocol over Socket.IO (docs/protocol.md)."""

from .hub import Realtime

__all__ = ["Realtime"]
