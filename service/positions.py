"""Where each reader of the event log stands, for /health/details and operators."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from eventsourcing.persistence import TrackingRecorder


def nats_state(url: str, timeout: float = 1.0) -> str:
    """Whether a NATS server answers with its INFO line: "ok", or why not."""
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or 4222), timeout=timeout
        ) as connection:
            greeting = connection.recv(5)
    except OSError as error:
        return f"down: {error}"
    return "ok" if greeting.startswith(b"INFO") else "down: not a NATS server"


def lag(head: int, position: int | None) -> int:
    return max(0, head - (position or 0))


def recorded(tracking: TrackingRecorder, upstream: str) -> int:
    return tracking.max_tracking_id(upstream) or 0
