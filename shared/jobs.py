"""Periodic jobs, run by APScheduler on the service's event loop."""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from shared.catalog import Catalog
from shared.service import RoomService

log = logging.getLogger("lockstep.jobs")


def start_jobs(
    catalog: Catalog, service: RoomService, *, rescan_every: float, empty_grace: float
) -> AsyncIOScheduler:
    """Library rescans every `rescan_every` seconds (0 = never) and a sweep for empty rooms."""
    scheduler = AsyncIOScheduler()

    async def rescan() -> None:
        try:
            await catalog.rescan()
        except Exception:  # a failed scan is retried at the next interval
            log.exception("library rescan failed")

    async def sweep() -> None:
        await service.close_expired()

    # max_instances=1 + coalesce: a slow job never piles up behind itself.
    options = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 30}
    if rescan_every > 0:
        scheduler.add_job(rescan, "interval", seconds=rescan_every, id="rescan", **options)
    sweep_every = min(60.0, max(1.0, empty_grace / 2))
    scheduler.add_job(sweep, "interval", seconds=sweep_every, id="sweep", **options)
    scheduler.start()
    return scheduler
