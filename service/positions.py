"""Where each reader of the event log stands, for /health/details and operators."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from eventsourcing.persistence import TrackingRecorder


def nats_state(urls: list[str], timeout: float = 1.0) -> str:
    """Whether a NATS node answers with its INFO line: "ok" if any does, or why not."""
    states = [node_state(url, timeout) for url in urls]
    return "ok" if "ok" in states else "; ".join(states) or "down: no NATS URL"


def node_state(url: str, timeout: float) -> str:
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
