"""The now-playing message: a pure embed and buttons built from a room snapshot, and the
follower that keeps one message per channel room up to date from the room's notices."""

from .follower import NowPlayingFollower
from .messages import MessageStore, Posted
from .render import NO_MENTIONS, Rendered, Renderer
from .snapshot import NowPlaying, TrackInfo, UpNext, snapshot_of
from .throttle import EditThrottle
from .view import COG_NAME, ControlButton, Controls, controls_view, custom_id

__all__ = [
    "COG_NAME",
    "NO_MENTIONS",
    "ControlButton",
    "Controls",
    "EditThrottle",
    "MessageStore",
    "NowPlaying",
    "NowPlayingFollower",
    "Posted",
    "Rendered",
    "Renderer",
    "TrackInfo",
    "UpNext",
    "controls_view",
    "custom_id",
    "snapshot_of",
]
