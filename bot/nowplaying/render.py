"""A room turned into what its now-playing message shows: the snapshot, the embed, the buttons
and the cover art, with the library facts the room does not keep (album, art) looked up off the
event loop."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import discord

from shared.catalog import Catalog
from shared.core import Room
from shared.tokens import Tokens, player_url

from .cover import CoverPlan, cover_plan
from .embed import build_embed
from .snapshot import NowPlaying, TrackInfo, snapshot_of
from .view import controls_view

NO_MENTIONS = discord.AllowedMentions.none()
TRACK_CACHE = 256  # library facts of recently shown tracks


@dataclass(frozen=True)
class Rendered:
    now: NowPlaying
    embed: discord.Embed
    view: discord.ui.View
    cover: CoverPlan
    cover_path: Path | None  # the file to attach when `cover.attach`

    def cover_file(self) -> discord.File | None:
        if not self.cover.attach or self.cover_path is None:
            return None
        return discord.File(self.cover_path, filename=self.cover.attachment_name)


class Renderer:
    def __init__(
        self,
        catalog: Catalog,
        base_url: str,
        tokens: Tokens,
        service_now: Callable[[], float],
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._catalog = catalog
        self._base_url = base_url
        self._tokens = tokens
        self._now = service_now
        self._wall = wall
        self._tracks: OrderedDict[str, tuple[TrackInfo, Path | None, str]] = OrderedDict()

    def player_url(self, room: Room) -> str:
        invite = self._tokens.invite(room.id) if room.private else None
        return player_url(self._base_url, room.id, invite)

    async def render(self, room: Room) -> Rendered:
        current = room.queue.current
        info, path, mime = (
            await self._track(current.track.track_id) if current else (TrackInfo(), None, "")
        )
        now = snapshot_of(room, self._now(), self._wall(), self.player_url(room), info)
        plan = cover_plan(self._base_url, now.track_id, now.has_cover and path is not None, mime)
        return Rendered(now, build_embed(now, plan.url), controls_view(now), plan, path)

    async def _track(self, track_id: str) -> tuple[TrackInfo, Path | None, str]:
        cached = self._tracks.get(track_id)
        if cached is not None:
            self._tracks.move_to_end(track_id)
            return cached
        found = await asyncio.to_thread(self._lookup, track_id)
        self._tracks[track_id] = found
        while len(self._tracks) > TRACK_CACHE:
            self._tracks.popitem(last=False)
        return found

    def _lookup(self, track_id: str) -> tuple[TrackInfo, Path | None, str]:
        library = self._catalog.library
        track = library.get(track_id)
        if track is None:  # queued earlier, gone from the library since
            return TrackInfo(), None, ""
        cover = library.cover(track_id) if track.has_cover else None
        info = TrackInfo(album=track.album, has_cover=cover is not None)
        return info, (cover.path if cover else None), (cover.mime if cover else "")
