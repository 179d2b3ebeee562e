"""A batch job's runs of each step, from its events: who ran it, when, and its error.

The aggregate keeps only the count of runs per step (the fencing token); the events
hold the rest. A run starts when a worker takes the step's lease; the first error
recorded while it is the latest run (a retry's message, the failure) is its error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from domain.batch_jobs import BatchJob
from domain.leases import LeaseStep

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

# After these a step is over: later errors are not any run's.
_STEP_ENDS = (BatchJob.PreProcessed, BatchJob.Completed, BatchJob.Canceled)


@dataclass(frozen=True)
class Attempt:
    step: str
    attempt: int  # 1 for a step's first run
    holder: str
    at: datetime
    error: str | None = None


def attempts_of(events: Iterable[BatchJob.Event]) -> list[Attempt]:
    """Each run of each step, oldest first."""
    attempts: list[Attempt] = []
    runs: dict[str, int] = {}
    errors_seen = 0
    running = False  # whether the latest run's step is still going
    for event in events:
        started = _run_started(event)
        if started is not None:
            step, holder = started
            runs[step] = runs.get(step, 0) + 1
            attempts.append(Attempt(step, runs[step], holder, event.timestamp))
            running = True
        errors, errors_seen = _new_errors(event, errors_seen)
        if running and errors and attempts[-1].error is None:
            attempts[-1] = replace(attempts[-1], error=_text(errors[0]))
        if isinstance(event, (*_STEP_ENDS, BatchJob.Failed)):
            running = False
    return attempts


def _run_started(event: BatchJob.Event) -> tuple[str, str] | None:
    if isinstance(event, BatchJob.LeaseTaken):
        return event.step, event.holder
    if isinstance(event, BatchJob.ProcessingStarted) and event.holder is not None:
        return LeaseStep.PROCESSING.value, event.holder  # a claim: lease and start
    return None


def _new_errors(event: BatchJob.Event, seen: int) -> tuple[list[Any], int]:
    """The errors `event` appends to `result.errors`, and how many there are after it."""
    if isinstance(event, BatchJob.Failed):
        return ([event.error], seen + 1) if event.error is not None else ([], seen)
    if isinstance(event, BatchJob.Updated):
        if event.result is not None and isinstance(event.result.get("errors"), list):
            errors = event.result["errors"]
            return list(errors[seen:]), len(errors)
        if "errors" in event.unset_result:
            return [], 0
    return [], seen


def _text(error: Any) -> str:
    return error if isinstance(error, str) else json.dumps(error, sort_keys=True)
