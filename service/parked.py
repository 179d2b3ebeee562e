"""Poison events of the read models: parking them, and reporting them to operators.

A read model's runner hands over an event it failed on every attempt at
(projections.runner); `parker` records it in the view's parked table with the tracking
advance, and logs, at error level, what happened and what to do. `/health/details`
names parked and stuck events without their error text (it answers anyone); the log
and `jobstream projections parked` carry the error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from eventsourcing.persistence import IntegrityError, Tracking

from projections.parking import ParkedEvent, Parking, error_text, now

if TYPE_CHECKING:
    from collections.abc import Mapping

    from eventsourcing.persistence import Notification

    from projections.runner import CatchUpRunner, PoisonHandler

log = structlog.get_logger("projections")
SHOWN = 10  # parked events named per read model in /health/details


def advice(read_model: str) -> str:
    return (
        f"fix the cause, then run `jobstream projections rebuild {read_model}`; "
        "`jobstream projections parked` lists the parked events with their errors"
    )


def parker(read_model: str, view: object, upstream: str) -> PoisonHandler:
    """The runner's `on_poison` for `view`: park the event, log what to do."""
    if not isinstance(view, Parking):
        raise TypeError(f"the {read_model} view cannot park events")

    def park(notification: Notification, error: BaseException, attempts: int) -> None:
        parked = ParkedEvent(
            read_model=read_model,
            position=notification.id,
            originator_id=str(notification.originator_id),
            originator_version=notification.originator_version,
            topic=notification.topic,
            error=error_text(error),
            attempts=attempts,
            parked_at=now(),
        )
        try:
            view.park(parked, Tracking(upstream, notification.id))
        except IntegrityError:
            raise  # another process got there first: the runner resumes after it
        except Exception as failure:
            log.error(  # noqa: TRY400 - the traceback is the runner's, logged there
                "projection.event_stuck",
                **_fields(parked),
                park_error=error_text(failure),
                action=f"the read model stopped at this event: {advice(read_model)}",
            )
            raise
        log_parked(parked)

    return park


def log_parked(parked: ParkedEvent, *, by: str = "projection") -> None:
    """The error line of a parked event: what it is, why, and what to do."""
    log.error(
        "projection.event_parked",
        **_fields(parked),
        parked_by=by,
        action="the read model skipped this event and goes on: "
        + advice(parked.read_model),
    )


def _fields(parked: ParkedEvent) -> dict[str, object]:
    return {
        "read_model": parked.read_model, "position": parked.position,
        "originator_id": parked.originator_id,
        "originator_version": parked.originator_version, "topic": parked.topic,
        "attempts": parked.attempts, "error": parked.error,
    }  # fmt: skip


def details(
    read_models: Mapping[str, tuple[object, CatchUpRunner | None]],
) -> dict[str, Any]:
    """For /health/details: per read model, its parked events and the one it is stuck at.

    `read_models` maps a name to its view and, where this process runs it, its runner.
    """
    parked: dict[str, Any] = {}
    stuck: dict[str, Any] = {}
    for name, (view, runner) in read_models.items():
        if isinstance(view, Parking):
            shown = view.parked_events(limit=SHOWN)
            count = len(shown) if len(shown) < SHOWN else view.count_parked()
            parked[name] = {"count": count, "events": [e.public() for e in shown]}
        held = None if runner is None else runner.stuck
        if held is not None:
            stuck[name] = {
                "position": held.position, "originator_id": held.originator_id,
                "originator_version": held.originator_version, "topic": held.topic,
                "attempts": held.attempts,
            }  # fmt: skip
    return {"parked": parked, "stuck": stuck}
