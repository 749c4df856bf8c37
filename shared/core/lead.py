"""How far ahead of now a playback change takes effect.

A change (play, pause, seek, skip…) is stamped with a server time in the near future so that every
listener has received it, and had time to prepare (load, set the position), before it happens;
then they all start together however long the broadcast took. Too short and slow listeners start
late; too long and the room feels sluggish. The lead follows the slowest listener's measured round
trip (the whole round trip, not half: paths are often asymmetric and jittery) plus the time the
server needs to send the change to everyone, within fixed bounds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

MIN_LEAD = 0.25  # seconds: even on loopback a player needs time to seek or prepare a buffer
MAX_LEAD = 1.5  # one listener on a terrible link must not make the room sluggish; it catches up
PREPARE = 0.15  # for a player to seek <audio> or schedule a decoded buffer; the player may tune it
MARGIN = 0.05  # jitter
# Server time to hand one change to one more listener: bench/fanout measured the last of 1,000
# listeners served after 60-70 ms (~0.07 ms each); 0.2 ms leaves room for a busy server.
SEND_PER_LISTENER = 0.0002


def playback_lead(round_trips: Iterable[float], listeners: int) -> float:
    """Seconds between deciding a change and its taking effect, for a room whose listeners have
    the given best recent round trips (seconds)."""
    worst = max((rtt for rtt in round_trips if math.isfinite(rtt) and rtt >= 0), default=0.0)
    lead = PREPARE + worst + max(0, listeners) * SEND_PER_LISTENER + MARGIN
    return min(MAX_LEAD, max(MIN_LEAD, lead))
