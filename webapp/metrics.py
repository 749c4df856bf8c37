"""Prometheus metrics (prometheus-client), on a registry of the app's own so that several servers
in one process (tests) never share counters."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

# `*_created` timestamps double the output and tell an operator nothing here.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Broadcast hand-off times: sub-millisecond for small rooms, tens of ms for a thousand listeners.
BROADCAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.clients = Gauge(
            "lockstep_connected_clients", "Socket.IO connections open now", registry=r
        )
        self.rooms = Gauge("lockstep_rooms", "Rooms open now", registry=r)
        self.listeners = Gauge(
            "lockstep_room_members", "Members present in rooms (all rooms)", registry=r
        )
        self.commands = Counter(
            "lockstep_commands",
            "Socket.IO events handled, by event and result (ok or an error code)",
            ["event", "result"],
            registry=r,
        )
        self.broadcast = Histogram(
            "lockstep_broadcast_seconds",
            "Time to hand one room event to every connection in the room",
            ["event"],
            buckets=BROADCAST_BUCKETS,
            registry=r,
        )
        self.throttled = Counter(
            "lockstep_throttled",
            "Requests and events refused by a rate limit, by entry point",
            ["entry"],
            registry=r,
        )
        self.flood_disconnects = Counter(
            "lockstep_flood_disconnects",
            "Connections closed for flooding after repeated rate-limit refusals",
            registry=r,
        )
        self.library_tracks = Gauge("lockstep_library_tracks", "Tracks in the library", registry=r)
        self.scan_seconds = Gauge(
            "lockstep_library_scan_seconds", "Duration of the last library scan", registry=r
        )

    def follow(
        self, clients: Callable[[], float], rooms: Callable[[], float], members: Callable[[], float]
    ) -> None:
        """Read the live counts at scrape time rather than keeping copies in step."""
        self.clients.set_function(clients)
        self.rooms.set_function(rooms)
        self.listeners.set_function(members)
