"""A cheaper broadcast for python-socketio.

The stock `AsyncManager.emit` encodes a broadcast once but then creates one asyncio task per
recipient, each of which only puts the same packet on that connection's engine.io send queue.
With a thousand listeners that is a thousand tasks to create, schedule and collect before the
first byte is written. This manager puts the packet on every queue directly, in one pass; each
connection's own writer task still does the writing, in order, exactly as before.
bench/fanout measures the difference (README, "Fan-out").
"""

from __future__ import annotations

import asyncio
import sys
import types
from typing import Any

import socketio
from engineio import exceptions as engineio_exceptions
from engineio import packet as eio_packet
from socketio import packet as sio_packet


class BroadcastManager(socketio.AsyncManager):  # type: ignore[misc]
    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        room = to or room
        if callback is not None or skip_sid is not None or isinstance(data, tuple):
            # Acks and exclusions need per-recipient packets: the stock path handles them.
            await super().emit(
                event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs
            )
            return
        if namespace not in self.rooms:
            return
        message = self.server.packet_class(
            sio_packet.EVENT, namespace=namespace, data=[event] if data is None else [event, data]
        )
        encoded = message.encode()
        if isinstance(encoded, list):  # binary attachments: several packets, stock path
            await super().emit(event, data, namespace, room=room, **kwargs)
            return
        packet = eio_packet.Packet(eio_packet.MESSAGE, encoded)
        sockets = self.server.eio.sockets
        for _sid, eio_sid in self.get_participants(namespace, room):
            connection = sockets.get(eio_sid)
            if connection is not None and not connection.closed:
                connection.queue.put_nowait(packet)


async def _poll(self: Any) -> list[Any]:
    """engine.io's `AsyncSocket.poll`, minus `asyncio.wait_for`, which on Python 3.11 wraps every
    wait for the next packet in a new task. Same semantics: packets queued so far, [] when the
    connection is closing, QueueEmpty on timeout or cancellation.

    On a WebSocket the wait has no timeout of its own: engine.io's reader already gives up on a
    silent client after the same time and then queues the None that ends this writer, so a timer
    per message per listener would only repeat it. Long-polling keeps the timeout (its request
    must end)."""
    queue = self.queue
    try:
        if self.upgraded:
            first = await queue.get()
        else:
            async with asyncio.timeout(self.server.ping_interval + self.server.ping_timeout):
                first = await queue.get()
        queue.task_done()
    except (TimeoutError, asyncio.CancelledError):
        raise engineio_exceptions.QueueEmpty() from None
    if first is None:
        return []
    packets = [first]
    while not queue.empty():
        more = queue.get_nowait()
        queue.task_done()
        if more is None:
            queue.put_nowait(None)  # let the writer see the end on its next poll
            break
        packets.append(more)
    return packets


def lighten(connection: Any) -> None:
    """Give one engine.io connection the task-free poll above (bench/fanout: it was a fifth of
    the server's time in a broadcast to a thousand listeners)."""
    if connection is not None and sys.version_info < (3, 12):
        connection.poll = types.MethodType(_poll, connection)
