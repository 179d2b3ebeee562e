"""An aggregate's events as a timeline, and its state folded to a version or a moment."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import msgspec

from domain import aggregates
from domain.batch_jobs import BatchJob
from domain.catalog.base import CatalogAggregate
from projections.batch_jobs.document import batch_job_fields
from projections.batch_jobs.row import BatchJobRow
from projections.batch_jobs.row import fold as fold_job
from projections.catalog import documents
from projections.catalog.state import Entity
from projections.catalog.state import fold as fold_catalog

if TYPE_CHECKING:
    from collections.abc import Sequence

    from projections.catalog.view import CatalogView
    from service.application import Jobstream

BATCH_ACTOR_PREFIX = "batch:"
# Attributes every event has; the rest of an event's fields are its payload.
_BASE_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "actor", "originator_topic"}
)

# Secrets a user's events hold: histories and exports show that they changed, not them.
REDACTED_FIELDS = frozenset({"password_hash", "api_token"})
REDACTED = "[redacted]"
# Fields shown only when set: a job's trace (set only where tracing is on).
SHOWN_IF_SET = frozenset({"trace_parent"})


class HistoryEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One stored event of an aggregate, as the history endpoints and CLI show it."""

    version: int
    name: str
    occurred_at: datetime
    actor: str
    batch_job_id: str | None  # the batch job that caused it (actor `batch:<id>`)
    payload: dict[str, Any]


class UnknownAggregateError(LookupError):
    """No events are stored for this id (or not of the kind asked for)."""


class PastLastVersionError(LookupError):
    """A version the aggregate has not reached: it has versions 1 to `last`."""

    def __init__(self, aggregate_id: str, version: int, last: int) -> None:
        super().__init__(f"{aggregate_id} has versions 1 to {last}, not {version}")
        self.aggregate_id, self.version, self.last = aggregate_id, version, last


def payload_of(event: object) -> dict[str, Any]:
    values = {
        field.name: getattr(event, field.name)
        for field in dataclasses.fields(event)  # type: ignore[arg-type]
        if field.name not in _BASE_FIELDS
        and not (field.name in SHOWN_IF_SET and getattr(event, field.name) is None)
    }
    for name in REDACTED_FIELDS.intersection(values):
        if values[name] is not None:
            values[name] = REDACTED
    return msgspec.to_builtins(values)  # type: ignore[no-any-return]


def describe(event: aggregates.Event) -> HistoryEvent:
    actor = event.actor
    caused_by = actor.removeprefix(BATCH_ACTOR_PREFIX)
    return HistoryEvent(
        version=event.originator_version,
        name=event.NAME or type(event).__qualname__,
        occurred_at=event.timestamp,
        actor=actor,
        batch_job_id=caused_by if actor.startswith(BATCH_ACTOR_PREFIX) else None,
        payload=payload_of(event),
    )


def events_of(app: Jobstream, aggregate_id: str) -> list[aggregates.Event]:
    """Every stored event of the aggregate, oldest first (upcast to today's shape)."""
    stored = app.recorder.select_events(aggregate_id)
    return [
        cast("aggregates.Event", app.mapper.to_domain_event(record))
        for record in stored
    ]


def history(
    app: Jobstream, aggregate_id: str, kind: type[object] = aggregates.Event
) -> list[HistoryEvent]:
    """The aggregate's timeline; UnknownAggregateError if none (or not of `kind`)."""
    events = events_of(app, aggregate_id)
    if not events or not isinstance(events[0], kind):
        raise UnknownAggregateError(aggregate_id)
    return [describe(event) for event in events]


def until(
    events: Sequence[aggregates.Event],
    *,
    version: int | None = None,
    at: datetime | None = None,
) -> list[aggregates.Event]:
    """The events up to a version, or up to a moment (inclusive)."""
    if version is not None:
        return [e for e in events if e.originator_version <= version]
    if at is not None:
        return [e for e in events if e.timestamp <= at]
    return list(events)


def state_at(
    app: Jobstream,
    aggregate_id: str,
    *,
    version: int | None = None,
    at: datetime | None = None,
    catalog: CatalogView | None = None,
) -> dict[str, Any]:
    """The aggregate folded to that point, as the API renders it.

    A batch job is folded and rendered by the batch-jobs projection's own code; a
    catalog entity by the catalog projection's (a product embeds the records it
    refers to as the catalog read model has them now). UnknownAggregateError if the
    aggregate did not exist yet at that point; PastLastVersionError for a version it
    has not reached (rather than its latest state, as if that were the version asked).
    """
    stored = events_of(app, aggregate_id)
    if version is not None and stored and version > stored[-1].originator_version:
        raise PastLastVersionError(aggregate_id, version, stored[-1].originator_version)
    events = until(stored, version=version, at=at)
    if not events:
        raise UnknownAggregateError(aggregate_id)
    if isinstance(events[0], BatchJob.Event):
        rows: dict[str, BatchJobRow] = {}
        fold_job(rows, events)  # type: ignore[arg-type]
        return batch_job_fields(rows[aggregate_id])
    if isinstance(events[0], CatalogAggregate.Event):
        entities: dict[str, Entity] = {}
        fold_catalog(entities, events)  # type: ignore[arg-type]
        return catalog_document(entities[aggregate_id], catalog)
    raise UnknownAggregateError(aggregate_id)


def catalog_document(entity: Entity, catalog: CatalogView | None) -> dict[str, Any]:
    if entity.kind != "product":
        return documents.record(entity.kind, entity.state)
    related = {} if catalog is None else catalog.related_documents(entity.state)
    return documents.product(entity.state, related)
