"""The versioned envelope every batch-job event is published in (see docs/events.md)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from domain.batch_jobs import BatchJob

SCHEMA_VERSION = 1
# Attributes every event has; the rest of an event's fields are its payload. A
# job's trace travels in the message's `traceparent` header, not in its payload.
_BASE_FIELDS = frozenset(
    {
        "originator_id",
        "originator_version",
        "timestamp",
        "actor",
        "originator_topic",
        "trace_parent",
    }
)


class EventEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    """One stored event as subscribers receive it. New fields are added at the end."""

    schema_version: int = SCHEMA_VERSION
    event_id: str  # "<job id>:<job version>": unique, and the same on every re-publish
    job_id: str
    job_version: int
    event: str  # Medusa's event name, e.g. "batch.created"
    occurred_at: datetime
    actor: str
    position: int  # the event store's notification id: the global order
    payload: dict[str, Any]


def envelope_of(position: int, event: BatchJob.Event) -> EventEnvelope:
    payload = {
        field.name: getattr(event, field.name)
        for field in dataclasses.fields(event)
        if field.name not in _BASE_FIELDS
    }
    return EventEnvelope(
        event_id=f"{event.originator_id}:{event.originator_version}",
        job_id=event.originator_id,
        job_version=event.originator_version,
        event=event.NAME,
        occurred_at=event.timestamp,
        actor=event.actor,
        position=position,
        payload=payload,
    )


def subject_for(prefix: str, event_name: str) -> str:
    """`jobstream.batch.created` for prefix `jobstream` and event `batch.created`."""
    return f"{prefix}.{event_name}"


_encoder = msgspec.json.Encoder()
_decoder: msgspec.json.Decoder[EventEnvelope] = msgspec.json.Decoder(EventEnvelope)


def encode(envelope: EventEnvelope) -> bytes:
    return _encoder.encode(envelope)


def decode(data: bytes) -> EventEnvelope:
    """Raises msgspec.ValidationError or msgspec.DecodeError on a malformed message."""
    return _decoder.decode(data)
