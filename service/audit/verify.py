"""`jobstream verify`: fold every aggregate from its events, compare with the read models."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from domain.batch_jobs import BatchJob
from domain.catalog.base import CatalogAggregate
from projections.batch_jobs.document import document
from projections.batch_jobs.projection import BatchJobsProjection
from projections.batch_jobs.row import BatchJobRow, fold
from projections.catalog.projection import CatalogProjection
from projections.catalog.state import Entity
from projections.catalog.state import fold as fold_catalog
from projections.nul import without_nul
from service.audit import history

if TYPE_CHECKING:
    from collections.abc import Callable

    from projections.parking import Parking
    from service.audit.models import Models


@dataclass(frozen=True)
class Difference:
    model: str
    id: str
    problem: str


@dataclass
class Verification:
    model: str
    aggregates: int = 0
    events: int = 0
    seconds: float = 0.0
    differences: list[Difference] = field(default_factory=list)


def verify(models: Models) -> list[Verification]:
    """Each read model of `models` against its events."""
    return [VERIFIERS[name](models) for name in models.read_models.names]


def verify_batch_jobs(models: Models) -> Verification:
    """Compare each job's stored row (version, document) with its events' fold.

    Events are folded up to the view's tracked position; a row the projection moved
    on since is checked against its own events up to its stored version.
    """
    started = time.perf_counter()
    report = Verification(BatchJobsProjection.name)
    rows: dict[str, BatchJobRow] = {}
    stop = models.jobs.position(models.app.name)
    parked = _parked_positions(
        models.jobs
    )  # skipped by the read model: by this fold too
    for page in models.events(BatchJobsProjection.topics, stop=stop):
        fold(
            rows,
            [e for p, e in page if p not in parked and isinstance(e, BatchJob.Event)],
        )
        report.events += len(page)
    stored = models.jobs.documents_by_id()
    for job_id in sorted(rows.keys() | stored.keys()):
        expected, found = rows.get(job_id), stored.get(job_id)
        if found is not None and (expected is None or found[0] > expected.version):
            expected = _job_at(models, job_id, found[0])
        problem = _job_problem(expected, found)
        if problem:
            report.differences.append(Difference(report.model, job_id, problem))
    report.aggregates = len(rows)
    report.seconds = time.perf_counter() - started
    return report


def _job_at(models: Models, job_id: str, version: int) -> BatchJobRow | None:
    events = history.until(history.events_of(models.app, job_id), version=version)
    rows: dict[str, BatchJobRow] = {}
    fold(rows, [e for e in events if isinstance(e, BatchJob.Event)])
    return rows.get(job_id)


def _job_problem(
    expected: BatchJobRow | None, found: tuple[int, str] | None
) -> str | None:
    if expected is None:
        return "in the read model, but no events make it"
    if found is None:
        return f"missing from the read model (version {expected.version})"
    version, stored = found
    if version != expected.version:
        return f"version {version} in the read model, {expected.version} from events"
    # The read model stores U+FFFD for U+0000 (projections.nul): so does this fold.
    return _json_problem(
        json.loads(stored), json.loads(document(without_nul(expected)))
    )


def _json_problem(stored: dict[str, Any], expected: dict[str, Any]) -> str | None:
    keys = sorted(
        k for k in stored.keys() | expected.keys() if stored.get(k) != expected.get(k)
    )
    if not keys:
        return None
    return "; ".join(
        f"{k}: read model {json.dumps(stored.get(k))}, events "
        f"{json.dumps(expected.get(k))}"
        for k in keys
    )


def verify_catalog(models: Models) -> Verification:
    """Compare each catalog entity's stored kind, version and state with its fold."""
    started = time.perf_counter()
    report = Verification(CatalogProjection.name)
    entities: dict[str, Entity] = {}
    stop = models.catalog.position(models.app.name)
    parked = _parked_positions(models.catalog)
    for page in models.events(CatalogProjection.topics, stop=stop):
        fold_catalog(
            entities,
            [e for p, e in page
             if p not in parked and isinstance(e, CatalogAggregate.Event)],
        )  # fmt: skip
        report.events += len(page)
    stored = models.catalog.entities_by_id()
    for entity_id in sorted(entities.keys() | stored.keys()):
        expected, found = entities.get(entity_id), stored.get(entity_id)
        if found is not None and (expected is None or found.version > expected.version):
            expected = _entity_at(models, entity_id, found.version)
        problem = _entity_problem(expected, found)
        if problem:
            report.differences.append(Difference(report.model, entity_id, problem))
    report.aggregates = len(entities)
    report.seconds = time.perf_counter() - started
    return report


def _entity_at(models: Models, entity_id: str, version: int) -> Entity | None:
    events = history.until(history.events_of(models.app, entity_id), version=version)
    entities: dict[str, Entity] = {}
    fold_catalog(entities, [e for e in events if isinstance(e, CatalogAggregate.Event)])
    return entities.get(entity_id)


def _entity_problem(expected: Entity | None, found: Entity | None) -> str | None:
    if expected is None:
        return "in the read model, but no events make it"
    if found is None:
        return f"missing from the read model (version {expected.version})"
    if (found.kind, found.version) != (expected.kind, expected.version):
        return (
            f"{found.kind} version {found.version} in the read model, "
            f"{expected.kind} version {expected.version} from events"
        )
    expected_state = without_nul(expected.state)
    return _json_problem(found.state, json.loads(json.dumps(expected_state)))


def _parked_positions(view: Parking) -> set[int]:
    return {event.position for event in view.parked_events()}


# How each read model (by its definition's name) is checked against its events.
VERIFIERS: dict[str, Callable[[Models], Verification]] = {
    BatchJobsProjection.name: verify_batch_jobs,
    CatalogProjection.name: verify_catalog,
}
