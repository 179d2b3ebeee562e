"""JetStream work consumers: durable pull consumers shared by every worker (a queue).

One consumer per work subject (`batch.created`, `batch.confirmed`); the server (2.9)
filters one subject per consumer. The job engine (service.engine.jetstream) fetches
from them, heartbeats and acks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from service.messaging import envelope
from service.stream_names import consumer_name

if TYPE_CHECKING:
    from nats.js.client import JetStreamContext


def consumer_config(
    durable_prefix: str, subject_prefix: str, event: str, *, lease_seconds: float,
    max_deliver: int,
) -> ConsumerConfig:  # fmt: skip
    return ConsumerConfig(
        durable_name=consumer_name(durable_prefix, event),
        filter_subject=envelope.subject_for(subject_prefix, event),
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=lease_seconds,  # no heartbeat for this long: redelivered elsewhere
        max_deliver=max_deliver,
    )


async def ensure_consumers(
    js: JetStreamContext, stream: str, configs: list[ConsumerConfig]
) -> None:
    for config in configs:
        await js.add_consumer(stream, config)  # creates, or updates editable fields
