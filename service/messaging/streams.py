"""The JetStream stream that carries batch-job events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from service.nats_client import create_or_get

if TYPE_CHECKING:
    from nats.js.client import JetStreamContext

# Re-publishes after a relay crash are dropped within this window (Nats-Msg-Id).
DUPLICATE_WINDOW_SECONDS = 600.0


def stream_config(name: str, prefix: str, replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=name,
        subjects=[f"{prefix}.>"],
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=replicas,
    )


async def ensure_stream(
    js: JetStreamContext, name: str, prefix: str, replicas: int = 1
) -> None:
    """Create the stream if it is missing; an existing one is left as operators set it.

    Race-free: several processes starting at once may all try (service.nats_client).

    (Updating it here would undo limits set by hand, such as max_age or replicas.)
    """
    await create_or_get(
        lambda: js.stream_info(name),
        lambda: js.add_stream(stream_config(name, prefix, replicas)),
        missing=NotFoundError,
        what=f"stream {name}",
    )
