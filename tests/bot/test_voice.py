"""Voice playback: what ffmpeg is asked for, that it really produces the room's moment, how a
session follows the room, and what /join says when voice is not installed."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import discord
import pytest
from test_nowplaying_follow import Party, fake, party, run_bot  # noqa: F401  (fixtures)

from bot.audio import (
    START_DELAY,
    Cue,
    Missing,
    VoiceFollower,
    VoiceSession,
    audio_source,
    cue_for,
    ffmpeg_options,
    install_hint,
    voice_missing,
)
from shared.core import Actor, Enqueue, Pause, Play, Room, Seek, Skip, Status, Stop, TrackRef
from tests.discord_fake.gateway import VOICE_STATE_UPDATE
from tests.web.conftest import Web, WebFactory, start_web  # noqa: F401  (the fixture)

ANA = Actor("web:ana", "Ana")
FRAME = 3840  # 20 ms of 48 kHz stereo s16le, what discord.py reads per packet
BYTES_PER_SECOND = 48_000 * 4


def playing_room(now: float = 100.0) -> Room:
    room = Room.create("party", "Party", 0.0)
    tracks = (TrackRef("t1", 180.0, "One"), TrackRef("t2", 200.0, "Two"))
    room, _ = room.apply(Enqueue(by=ANA, tracks=tracks), now)
    return room


# -- pure ---------------------------------------------------------------------------------------


def test_ffmpeg_starts_where_the_room_will_be_when_the_sound_arrives() -> None:
    room = playing_room(now=100.0)  # t1 started at server time 100
    assert cue_for(room, 130.0) == Cue("t1", pytest.approx(30.0 + START_DELAY))
    assert cue_for(room, 130.0, delay=0.0) == Cue("t1", 30.0)
    paused, _ = room.apply(Pause(by=ANA), 140.0)
    assert cue_for(paused, 150.0) == Cue(None)  # silence while paused
    resumed, _ = paused.apply(Play(by=ANA), 160.0)
    assert cue_for(resumed, 160.0, delay=0.0) == Cue("t1", 40.0)
    seeked, _ = resumed.apply(Seek(by=ANA, position=90.0), 161.0)
    assert cue_for(seeked, 161.0, delay=0.0) == Cue("t1", 90.0)
    skipped, _ = seeked.apply(Skip(by=ANA), 170.0)
    assert cue_for(skipped, 170.0, delay=0.0) == Cue("t2", 0.0)
    stopped, _ = skipped.apply(Stop(by=ANA), 171.0)
    assert cue_for(stopped, 171.0) == Cue(None)
    # A change scheduled ahead (the room's lead) holds the position until it takes effect.
    later, _ = paused.apply(Play(by=ANA), 200.0)
    assert cue_for(later, 199.5, delay=0.0) == Cue("t1", 40.0)
    # The last moments of a track: nothing to start, the next track gets its own cue.
    assert cue_for(room, 100.0 + 179.9) == Cue(None)


def test_ffmpeg_options_seek_the_input() -> None:
    before, options = ffmpeg_options(83.25)
    assert before.split() == ["-nostdin", "-ss", "83.250"]
    assert "-vn" in options.split()
    assert ffmpeg_options(-3)[0].endswith("-ss 0.000")


def test_without_the_voice_extra_join_says_what_to_install() -> None:
    nothing = voice_missing(lambda m: None, lambda p: None, lambda lib: None)
    assert nothing == Missing(python=("PyNaCl", "davey"), ffmpeg=True, opus=True)
    text = install_hint(nothing)
    assert "pip install 'lockstep[voice]'" in text
    assert "PyNaCl and davey" in text
    assert "apt-get install ffmpeg libopus0" in text
    assert "/listen" in text
    everything = voice_missing(lambda m: object(), lambda p: "/usr/bin/ffmpeg", lambda lib: "x")
    assert not everything
    only_davey = voice_missing(
        lambda m: None if m == "davey" else object(), lambda p: "/x", lambda lib: "x"
    )
    assert install_hint(only_davey).count("davey") == 1 and "apt-get" not in install_hint(
        only_davey
    )


# -- the real ffmpeg ----------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is installed by make test")
def test_the_source_produces_pcm_from_the_room_position(demo_tracks: list[Path]) -> None:
    track = demo_tracks[0]
    full = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(track), "-f", "s16le", "-ar", "48000", "-ac", "2", "-"],
        check=True,
        capture_output=True,
    ).stdout
    source = audio_source(track, 10.0)
    try:
        frames = [source.read() for _ in range(25)]  # half a second
    finally:
        source.cleanup()
    assert all(len(f) == FRAME for f in frames)
    pcm = b"".join(frames)
    assert pcm.strip(b"\0")  # sound, not silence
    # After the decoder's first frame, the output is the track itself from 10.000 s.
    probe = pcm[FRAME * 5 : FRAME * 10]
    found = full.find(probe)
    assert found >= 0
    started_at = (found - FRAME * 5) / BYTES_PER_SECOND
    assert started_at == pytest.approx(10.0, abs=0.001)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is installed by make test")
def test_the_pcm_encodes_to_opus_as_discord_sends_it(demo_tracks: list[Path]) -> None:
    """The rest of the way to Discord, short of its voice servers: libopus (which ffmpeg's
    package brings) turns each 20 ms frame into one Opus packet that decodes back to 20 ms."""
    import discord.opus

    assert discord.opus._load_default(), "libopus0 is missing"
    source = audio_source(demo_tracks[1], 5.0)
    try:
        frames = [source.read() for _ in range(10)]
    finally:
        source.cleanup()
    encoder, decoder = discord.opus.Encoder(), discord.opus.Decoder()
    packets = [encoder.encode(frame, encoder.SAMPLES_PER_FRAME) for frame in frames]
    assert all(0 < len(p) < FRAME for p in packets)  # compressed
    assert all(len(decoder.decode(p)) == FRAME for p in packets)


# -- a session following a real room service ------------------------------------------------------


@dataclass
class RecordingSpeaker:
    """Stands in for discord.py's VoiceClient (voice needs Discord's voice servers)."""

    started: list[tuple[str, float]] = field(default_factory=list)  # (file name, position)
    stops: int = 0
    busy: bool = False

    def is_connected(self) -> bool:
        return True

    def is_playing(self) -> bool:
        return self.busy

    def is_paused(self) -> bool:
        return False

    def stop(self) -> None:
        self.stops += 1
        self.busy = False

    def play(self, source: discord.AudioSource) -> None:
        assert isinstance(source, Cued)
        self.started.append((source.path.name, source.position))
        self.busy = True


@dataclass
class Cued(discord.AudioSource):
    path: Path
    position: float

    def read(self) -> bytes:
        return b""


@pytest.fixture
async def following(start_web: WebFactory) -> AsyncIterator[tuple[Web, RecordingSpeaker]]:  # noqa: F811
    web = await start_web()
    await web.service.open_room("party", "Party")
    speaker = RecordingSpeaker()
    follower = VoiceFollower(web.service)
    follower.sessions[1] = VoiceSession(
        speaker, "party", web.service, web.library.path_of, lambda p, pos: Cued(p, pos)
    )
    follower.start()
    yield web, speaker
    await follower.stop()


async def until(condition: object, wait: float = 5.0) -> None:
    assert callable(condition)
    deadline = asyncio.get_running_loop().time() + wait
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.01)


async def test_voice_restarts_ffmpeg_on_every_change_from_any_source(
    following: tuple[Web, RecordingSpeaker],
) -> None:
    web, speaker = following
    service = web.service
    first, second = web.track_ids()[:2]
    await service.enqueue("party", ANA, [first, second])  # autoplay
    await until(lambda: len(speaker.started) == 1)
    name, position = speaker.started[0]
    assert name == web.library.path_of(first).name  # type: ignore[union-attr]
    assert position == pytest.approx(START_DELAY, abs=0.05)

    await asyncio.sleep(0.3)
    await service.apply("party", Pause(by=ANA))
    await until(lambda: not speaker.busy)  # stopped, not paused: it restarts exactly later
    held = service.require("party").clock.position

    await service.apply("party", Play(by=ANA))
    await until(lambda: len(speaker.started) == 2)
    assert speaker.started[1][1] == pytest.approx(held + START_DELAY, abs=0.05)

    await service.apply("party", Seek(by=ANA, position=20.0))
    await until(lambda: len(speaker.started) == 3)
    assert speaker.started[2][1] == pytest.approx(20.0 + START_DELAY, abs=0.05)

    await service.apply("party", Skip(by=ANA))
    await until(lambda: len(speaker.started) == 4)
    assert speaker.started[3][0] == web.library.path_of(second).name  # type: ignore[union-attr]
    assert service.require("party").status is Status.PLAYING


# -- /join and /leave through the real discord.py client and the fake Discord -------------------


async def test_join_says_what_to_install_when_voice_cannot_work(
    party: Party,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no ffmpeg to be found
    missing = voice_missing()
    assert missing.ffmpeg
    await party.fake.join_voice("bob")
    command = await party.fake.slash("join", user="bob")
    callback = await party.fake.acknowledged(command)
    assert callback["type"] == 4 and callback["data"]["flags"] & 64  # ephemeral, at once
    assert callback["data"]["content"] == install_hint(missing)
    assert "apt-get install ffmpeg" in callback["data"]["content"]
    assert [
        f for f in party.fake.gateway.frames if f.op == VOICE_STATE_UPDATE
    ] == []  # no voice connection tried


needs_voice = pytest.mark.skipif(
    bool(voice_missing().python), reason="make setup-dev installs the voice extra"
)


@needs_voice
async def test_join_asks_discord_for_the_callers_voice_channel(party: Party) -> None:  # noqa: F811
    cog = party.bot.get_cog("Voice")
    assert cog is not None
    cog.connect_timeout = 1.0  # type: ignore[attr-defined]  # the fake has no voice servers
    await party.fake.join_voice("bob")
    command = await party.fake.slash("join", user="bob")
    callback = await party.fake.acknowledged(command)
    assert callback["type"] == 5  # deferred: connecting may take longer than 3 s
    frame = await party.fake.wait_for_frame(VOICE_STATE_UPDATE)
    assert int(frame.d["channel_id"]) == party.fake.world.voice_channel_id
    assert int(frame.d["guild_id"]) == party.fake.world.guild.id
    assert frame.d["self_deaf"] is True
    # Discord never answers with a voice server here: the caller is told, privately.
    followup = await party.fake.wait_for_request("POST", r"/webhooks/\d+/[^/]+")
    assert "could not connect" in followup.body["content"]
    assert followup.body["flags"] & 64
    assert party.bot.voice_clients == []


async def test_join_outside_a_voice_channel_is_refused(party: Party) -> None:  # noqa: F811
    if voice_missing():
        pytest.skip("with voice missing, /join says what to install first")
    command = await party.fake.slash("join", user="bob")
    callback = await party.fake.acknowledged(command)
    assert callback["type"] == 4 and callback["data"]["flags"] & 64
    assert "Join a voice channel first" in callback["data"]["content"]


async def test_leave_when_not_in_voice_is_refused(party: Party) -> None:  # noqa: F811
    command = await party.fake.slash("leave", user="bob")
    callback = await party.fake.acknowledged(command)
    assert callback["type"] == 4 and callback["data"]["flags"] & 64
    assert "not in a voice channel" in callback["data"]["content"]
