"""Voice playback's plain parts: what voice needs installed, where in the track ffmpeg starts,
and the ffmpeg audio source discord.py sends.

Voice is optional (`pip install 'lockstep[voice]'`, which brings discord.py's voice extra:
PyNaCl for encryption and `davey` for Discord's end-to-end encrypted voice), plus two system
pieces: the ffmpeg program (decoding) and the Opus library (`libopus0`, encoding).
"""

from __future__ import annotations

import asyncio
import ctypes.util
import importlib.util
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import discord

from shared.core import PlaybackChanged, Room, Status
from shared.service import Notice, RoomClosed, RoomService

log = logging.getLogger("lockstep.bot.voice")

# Seconds between starting ffmpeg and the first sound reaching people in the voice channel.
# ffmpeg's first frame takes ~55 ms here (median of 10 starts on a demo track); the rest is an
# allowance for Discord's relay and its clients' jitter buffers, which cannot be measured without
# Discord's voice servers. ffmpeg starts this far ahead so voice hears what the web hears.
START_DELAY = 0.25

PYTHON_PARTS = {"nacl": "PyNaCl", "davey": "davey"}
INSTALL = "pip install 'lockstep[voice]'"


@dataclass(frozen=True, slots=True)
class Missing:
    python: tuple[str, ...] = ()  # PyPI names
    ffmpeg: bool = False
    opus: bool = False

    def __bool__(self) -> bool:
        return bool(self.python) or self.ffmpeg or self.opus


def voice_missing(
    find_spec: Callable[[str], object | None] = importlib.util.find_spec,
    which: Callable[[str], str | None] = shutil.which,
    find_library: Callable[[str], str | None] = ctypes.util.find_library,
) -> Missing:
    """What voice playback lacks on this machine (nothing: an empty, false `Missing`)."""
    python = tuple(name for module, name in PYTHON_PARTS.items() if find_spec(module) is None)
    return Missing(python=python, ffmpeg=which("ffmpeg") is None, opus=find_library("opus") is None)


def install_hint(missing: Missing) -> str:
    """What a server admin has to install, as one message for /join."""
    steps = []
    if missing.python:
        steps.append(f"the Python packages {' and '.join(missing.python)}: `{INSTALL}`")
    system = [
        name for name, absent in (("ffmpeg", missing.ffmpeg), ("libopus0", missing.opus)) if absent
    ]
    if system:
        steps.append(f"{' and '.join(system)}: `apt-get install {' '.join(system)}`")
    return (
        "Voice playback is not installed on this Lockstep server. The person running it needs "
        + "; and ".join(steps)
        + ". Until then, listen along in the web player with /listen."
    )


@dataclass(frozen=True, slots=True)
class Cue:
    """What a voice connection should be playing: `track_id` from `position` seconds, or
    silence (`track_id` None)."""

    track_id: str | None
    position: float = 0.0


def cue_for(room: Room, now: float, delay: float = START_DELAY) -> Cue:
    """Where ffmpeg starts if started at server time `now`: the room's position when its first
    sound will be heard (`delay` later). A change scheduled for the future (the room's lead)
    is handled by calling this at the change's anchor."""
    current = room.queue.current
    if room.status is not Status.PLAYING or current is None:
        return Cue(None)
    position = room.clock.position_at(now + delay)
    duration = current.track.duration
    if position >= duration:
        return Cue(None)  # the track is about to end; the next one gets its own cue
    return Cue(current.track.track_id, position)


def ffmpeg_options(position: float) -> tuple[str, str]:
    """`before_options` and `options` for FFmpegPCMAudio. `-ss` before `-i` seeks the input:
    fast (no decoding of what is skipped) and sample-accurate for the formats the library reads.
    """
    before = f"-nostdin -ss {max(0.0, position):.3f}"
    return before, "-vn -loglevel error"


def audio_source(path: Path, position: float) -> discord.FFmpegPCMAudio:
    """48 kHz stereo 16-bit PCM from `position` seconds into the file, as discord.py sends it."""
    before, options = ffmpeg_options(position)
    return discord.FFmpegPCMAudio(str(path), before_options=before, options=options)


class Speaker(Protocol):
    """The part of discord.py's VoiceClient a session uses."""

    def is_connected(self) -> bool: ...
    def is_playing(self) -> bool: ...
    def is_paused(self) -> bool: ...
    def stop(self) -> None: ...
    def play(self, source: discord.AudioSource) -> None: ...


class VoiceSession:
    """One voice connection playing one room. `sync` makes it play what the room plays now:
    ffmpeg is (re)started at the room's position on every start, resume, seek and track change,
    and stopped on pause and stop, rather than paused, so it can never drift from the room."""

    def __init__(
        self,
        speaker: Speaker,
        room_id: str,
        service: RoomService,
        path_of: Callable[[str], Path | None],
        source: Callable[[Path, float], discord.AudioSource] = audio_source,
    ) -> None:
        self.speaker = speaker
        self.room_id = room_id
        self.service = service
        self.path_of = path_of
        self.source = source
        self.playing: Cue = Cue(None)  # what was last started

    async def sync(self) -> Cue:
        room = self.service.get(self.room_id)
        if room is None or not self.speaker.is_connected():
            return self._silence()
        cue = cue_for(room, self.service.now())
        if cue.track_id is None:
            return self._silence()
        path = await asyncio.to_thread(self.path_of, cue.track_id)
        room = self.service.get(self.room_id)
        if path is None or room is None:
            return self._silence()
        cue = cue_for(room, self.service.now())  # the lookup took a moment; the room may have moved
        if cue.track_id is None:
            return self._silence()
        if self.speaker.is_playing() or self.speaker.is_paused():
            self.speaker.stop()
        self.speaker.play(self.source(path, cue.position))
        self.playing = cue
        return cue

    def _silence(self) -> Cue:
        if self.speaker.is_playing() or self.speaker.is_paused():
            self.speaker.stop()
        self.playing = Cue(None)
        return self.playing


class VoiceFollower:
    """Follows the service's notices for the rooms that have voice sessions. The subscriber only
    queues; one task acts. A playback change takes effect at its anchor (the room's lead puts
    it slightly in the future, so every listener has it in time), so the session re-syncs then."""

    def __init__(self, service: RoomService) -> None:
        self.service = service
        self.sessions: dict[int, VoiceSession] = {}  # by guild id
        self._inbox: asyncio.Queue[Notice] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._pending: set[asyncio.Task[Cue]] = set()
        self._timers: dict[str, asyncio.TimerHandle] = {}

    def start(self) -> None:
        self._unsubscribe = self.service.subscribe(self._inbox.put_nowait)
        self._task = asyncio.create_task(self._run(), name="voice")

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for handle in self._timers.values():
            handle.cancel()
        tasks = [t for t in (self._task, *self._pending) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            notice = await self._inbox.get()
            if isinstance(notice, RoomClosed):
                self._at(notice.room_id, 0.0)
            elif isinstance(notice, PlaybackChanged):
                self._at(notice.room_id, notice.clock.anchor)

    def _at(self, room_id: str, when: float) -> None:
        """Re-sync the room's sessions at server time `when` (one timer per room: the latest
        change wins, as it reads the room's state when it fires)."""
        if not any(s.room_id == room_id for s in self.sessions.values()):
            return
        previous = self._timers.pop(room_id, None)
        if previous is not None:
            previous.cancel()
        delay = max(0.0, when - self.service.now())
        loop = asyncio.get_running_loop()
        self._timers[room_id] = loop.call_later(delay, self._sync_room, room_id)

    def _sync_room(self, room_id: str) -> None:
        self._timers.pop(room_id, None)
        for session in list(self.sessions.values()):
            if session.room_id == room_id:
                task = asyncio.get_running_loop().create_task(session.sync())
                self._pending.add(task)
                task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Cue]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("voice playback failed", exc_info=task.exception())
