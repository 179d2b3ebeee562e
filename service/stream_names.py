"""Names the relay, the workers and the operator's views share: leases, locks, consumers.

Here rather than in `service.messaging`, so the HTTP adapter can name them (the
system page, /metrics) without importing the messaging adapter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from service.settings import Settings

# The events that are work for a worker, each with a durable consumer of its own.
WORK_EVENTS = ("batch.created", "batch.confirmed")


def consumer_name(durable_prefix: str, event: str) -> str:
    return f"{durable_prefix}-{event.replace('.', '-')}"


def relay_lease_name(settings: Settings) -> str:
    # Lowercased like the position's table name, so lease and position always pair.
    return f"jobstream-relay:{settings.nats_stream.lower()}"


def relay_lock_path(settings: Settings) -> Path:
    return settings.data_path / f"relay-{settings.nats_stream.lower()}.lock"
