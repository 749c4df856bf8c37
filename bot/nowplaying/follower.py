"""Keeps each channel room's now-playing message up to date, whatever changed the room.

The service calls `notify` with every notice; it only puts the notice on a queue (subscribers
must never block). One task takes them off, marks the rooms whose message is out of date, and
edits the messages the throttle (`throttle.py`) lets through, rendering each from the room's state
at that moment, so bursts collapse into one edit that shows the latest state.

A track starting in a channel room that has no message yet posts one. A new track refreshes the
message: it is edited in place, or re-posted at the bottom of the channel when other messages
have arrived since (so it is not buried in chat). Message ids are stored (`messages.py`), so after
a restart the same message is edited. A message someone deleted is posted again on the next
change; a channel the bot may not post in is logged once and left alone until /nowplaying.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import discord

from shared.core import Event, MemberJoined, MemberLeft, PlaybackChanged, QueueChanged, Status
from shared.service import Notice, RoomClosed, RoomService

from .messages import MessageStore, Posted
from .render import NO_MENTIONS, Rendered, Renderer
from .throttle import EditThrottle

log = logging.getLogger("lockstep.bot.nowplaying")

SHOWN = (PlaybackChanged, QueueChanged, MemberJoined, MemberLeft)  # what the embed displays


class _Refresh:
    """Marker on the inbox: bring this room's message up to date (through the throttle)."""

    __slots__ = ("room_id",)

    def __init__(self, room_id: str) -> None:
        self.room_id = room_id


class _Stop:
    """Marker on the inbox: finish the edit in hand, then end."""


STOP_GRACE = 5.0  # seconds stop() waits for an edit in flight (so its message id is stored)


class NowPlayingFollower:
    def __init__(
        self,
        client: discord.Client,
        service: RoomService,
        renderer: Renderer,
        store: MessageStore,
        channel_of: Callable[[str], int | None],
        *,
        throttle: EditThrottle[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.service = service
        self.renderer = renderer
        self.store = store
        self.channel_of = channel_of
        self.throttle: EditThrottle[str] = throttle or EditThrottle()
        self.clock = clock
        self.posted: dict[str, Posted] = {}
        self.requests = 0  # requests made to Discord (posts, edits, deletes, reads)
        self._inbox: asyncio.Queue[Notice | _Refresh | _Stop] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._refused: set[int] = set()  # channels that answered 403: not retried on every event
        self._room_locks: dict[str, asyncio.Lock] = {}

    # -- life cycle --------------------------------------------------------------------------
    async def start(self) -> None:
        self.posted = await self.store.all()
        self._unsubscribe = self.service.subscribe(self.notify)
        self._task = asyncio.create_task(self._run(), name="nowplaying")

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._task is not None:
            # A post cut off half-way would be posted again after a restart: let it finish.
            self._inbox.put_nowait(_Stop())
            try:
                await asyncio.wait_for(asyncio.shield(self._task), STOP_GRACE)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None

    def notify(self, notice: Notice) -> None:
        """The service's subscriber: never blocks."""
        self._inbox.put_nowait(notice)

    def request_refresh(self, room_id: str) -> None:
        """Update the room's message soon (as soon as the throttle allows)."""
        self._inbox.put_nowait(_Refresh(room_id))

    # -- the loop ----------------------------------------------------------------------------
    async def _run(self) -> None:
        stopping = False
        while not stopping:
            due = self.throttle.next_due(self.clock())
            try:
                if due is None:
                    notice = await self._inbox.get()
                else:
                    async with asyncio.timeout(max(0.0, due - self.clock())):
                        notice = await self._inbox.get()
                stopping = self._take(notice)
                while not self._inbox.empty():  # everything already waiting, before editing
                    stopping = self._take(self._inbox.get_nowait()) or stopping
            except TimeoutError:
                pass
            if stopping:
                return
            for room_id in self.throttle.due(self.clock()):
                try:
                    await self.refresh(room_id)
                except Exception:  # one failed edit must not stop the follower
                    log.exception("updating the now-playing message of %s failed", room_id)
                self.throttle.sent(room_id, self.clock())

    def _take(self, notice: Notice | _Refresh | _Stop) -> bool:
        """Note what `notice` means for the messages; True when it is time to stop."""
        if isinstance(notice, _Stop):
            return True
        if isinstance(notice, _Refresh):
            if notice.room_id in self.posted:
                self.throttle.mark(notice.room_id, self.clock())
        elif isinstance(notice, RoomClosed):
            self.throttle.forget(notice.room_id)
        elif (
            isinstance(notice, SHOWN)
            and self.channel_of(notice.room_id) is not None
            and (notice.room_id in self.posted or _starts_a_track(notice))
        ):
            self.throttle.mark(notice.room_id, self.clock())
        return False

    # -- Discord -----------------------------------------------------------------------------
    async def refresh(self, room_id: str) -> discord.PartialMessage | None:
        """Bring the room's message up to date now (posting it if there is none)."""
        async with self._room_lock(room_id):
            room = self.service.get(room_id)
            channel_id = self.channel_of(room_id)
            if room is None or channel_id is None or channel_id in self._refused:
                return None
            rendered = await self.renderer.render(room)
            posted = self.posted.get(room_id)
            if posted is None or posted.channel_id != channel_id:
                return await self._post(channel_id, rendered)
            new_track = posted.entry_id != rendered.now.entry_id
            if new_track and await self._buried(posted):
                return await self._post(channel_id, rendered, replacing=posted)
            return await self._edit(posted, rendered, new_track)

    async def repost(self, room_id: str) -> discord.PartialMessage | None:
        """Post the message afresh at the bottom of the room's channel (/nowplaying)."""
        async with self._room_lock(room_id):
            room = self.service.get(room_id)
            channel_id = self.channel_of(room_id)
            if room is None or channel_id is None:
                return None
            self._refused.discard(channel_id)  # someone asked: try again
            self.throttle.forget(room_id)
            rendered = await self.renderer.render(room)
            posted = self.posted.get(room_id)
            return await self._post(channel_id, rendered, replacing=posted)

    async def _post(
        self, channel_id: int, rendered: Rendered, replacing: Posted | None = None
    ) -> discord.PartialMessage | None:
        channel = self.client.get_partial_messageable(channel_id)
        options: dict[str, Any] = {}
        cover = rendered.cover_file()
        if cover is not None:
            options["file"] = cover
        self.requests += 1
        try:
            message = await channel.send(
                embed=rendered.embed,
                view=rendered.view,
                allowed_mentions=NO_MENTIONS,
                silent=True,  # a track change is not worth a notification
                **options,
            )
        except (discord.Forbidden, discord.NotFound):  # no permission, or the channel is gone
            self._refused.add(channel_id)
            log.warning(
                "cannot post the now-playing message in channel %s: the bot needs View Channel, "
                "Send Messages, Embed Links and Attach Files there",
                channel_id,
            )
            return None
        posted = Posted(rendered.now.room_id, channel_id, message.id, rendered.now.entry_id)
        self.posted[posted.room_id] = posted
        await self.store.save(posted)
        if replacing is not None and replacing.message_id != message.id:
            old = self.client.get_partial_messageable(replacing.channel_id)
            self.requests += 1
            with contextlib.suppress(discord.NotFound, discord.Forbidden):
                await old.get_partial_message(replacing.message_id).delete()
        return channel.get_partial_message(message.id)

    async def _edit(
        self, posted: Posted, rendered: Rendered, new_track: bool
    ) -> discord.PartialMessage | None:
        channel = self.client.get_partial_messageable(posted.channel_id)
        message = channel.get_partial_message(posted.message_id)
        options: dict[str, Any] = {}
        if new_track:
            # The old track's cover goes; the new one is attached (edits in between keep it).
            cover = rendered.cover_file()
            options["attachments"] = [cover] if cover is not None else []
        self.requests += 1
        try:
            await message.edit(
                embed=rendered.embed, view=rendered.view, allowed_mentions=NO_MENTIONS, **options
            )
        except discord.NotFound:  # deleted by someone: post a new one
            return await self._post(posted.channel_id, rendered)
        except discord.Forbidden:
            self._refused.add(posted.channel_id)
            log.warning("cannot edit the now-playing message in channel %s", posted.channel_id)
            return None
        if new_track:
            posted = Posted(
                posted.room_id, posted.channel_id, posted.message_id, rendered.now.entry_id
            )
            self.posted[posted.room_id] = posted
            await self.store.save(posted)
        return message

    async def _buried(self, posted: Posted) -> bool:
        """Whether other messages arrived in the channel after ours. One read per track change
        (the bot does not take the message intent); unknown counts as not buried."""
        channel = self.client.get_partial_messageable(posted.channel_id)
        self.requests += 1
        try:
            async for newer in channel.history(limit=1, after=discord.Object(posted.message_id)):
                return newer.id > posted.message_id
        except discord.HTTPException:
            return False
        return False

    def _room_lock(self, room_id: str) -> asyncio.Lock:
        return self._room_locks.setdefault(room_id, asyncio.Lock())


def _starts_a_track(event: Event) -> bool:
    return (
        isinstance(event, PlaybackChanged)
        and event.status is Status.PLAYING
        and event.entry is not None
    )
