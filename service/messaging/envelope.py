"""The versioned envelopes events are published in (see docs/events.md).

A batch-job event travels in `EventEnvelope` on `<prefix>.<event>` (e.g.
`jobstream.batch.created`); a catalog event in `CatalogEventEnvelope`, the same
fields with the entity's id and version in place of the job's, on
`<prefix>.catalog.<event>` (e.g. `jobstream.catalog.product.created`).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import msgspec

from domain.batch_jobs import BatchJob
from domain.catalog.base import CatalogAggregate
from domain.catalog.registry import AGGREGATE_OF_EVENT

if TYPE_CHECKING:
    from eventsourcing.domain import DomainEventProtocol

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


class CatalogEventEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    """One stored catalog event as subscribers receive it.

    `EventEnvelope`'s fields, with the catalog entity's kind, id and version where a
    job's id and version are. New fields are added at the end.
    """

    schema_version: int = SCHEMA_VERSION
    event_id: str  # "<entity id>:<entity version>"
    entity: str  # the aggregate's kind, e.g. "product" (its variants and prices too)
    entity_id: str
    entity_version: int
    event: str  # Medusa's event name, e.g. "product-variant.updated"
    occurred_at: datetime
    actor: str
    position: int
    payload: dict[str, Any]


class Outgoing(NamedTuple):
    """One event ready to publish: its subject, body and Nats-Msg-Id."""

    subject: str
    data: bytes
    event_id: str


CATALOG = "catalog"  # the subject token that follows the prefix for catalog events


def outgoing(prefix: str, position: int, event: DomainEventProtocol[str]) -> Outgoing:
    """A batch-job or catalog event, enveloped, with its subject under `prefix`."""
    if isinstance(event, BatchJob.Event):
        batch = envelope_of(position, event)
        return Outgoing(subject_for(prefix, batch.event), encode(batch), batch.event_id)
    if isinstance(event, CatalogAggregate.Event):
        catalog = catalog_envelope_of(position, event)
        return Outgoing(
            subject_for(f"{prefix}.{CATALOG}", catalog.event),
            _encoder.encode(catalog),
            catalog.event_id,
        )
    raise TypeError(f"not a published event: {type(event).__qualname__}")


def _payload(event: object) -> dict[str, Any]:
    return {
        field.name: getattr(event, field.name)
        for field in dataclasses.fields(event)  # type: ignore[arg-type]
        if field.name not in _BASE_FIELDS
    }


def catalog_envelope_of(
    position: int, event: CatalogAggregate.Event
) -> CatalogEventEnvelope:
    return CatalogEventEnvelope(
        event_id=f"{event.originator_id}:{event.originator_version}",
        entity=AGGREGATE_OF_EVENT[type(event)].KIND,
        entity_id=event.originator_id,
        entity_version=event.originator_version,
        event=event.NAME,
        occurred_at=event.timestamp,
        actor=event.actor,
        position=position,
        payload=_payload(event),
    )


def envelope_of(position: int, event: BatchJob.Event) -> EventEnvelope:
    payload = _payload(event)
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
_catalog_decoder: msgspec.json.Decoder[CatalogEventEnvelope] = msgspec.json.Decoder(
    CatalogEventEnvelope
)


def encode(envelope: EventEnvelope) -> bytes:
    return _encoder.encode(envelope)


def decode(data: bytes) -> EventEnvelope:
    """Raises msgspec.ValidationError or msgspec.DecodeError on a malformed message."""
    return _decoder.decode(data)


def decode_catalog(data: bytes) -> CatalogEventEnvelope:
    """Raises msgspec.ValidationError or msgspec.DecodeError on a malformed message."""
    return _catalog_decoder.decode(data)
