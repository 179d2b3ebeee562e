"""The engine of embedded `serve`: work read from the event store, no broker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from service.engine.clock import SYSTEM_CLOCK, Clock
from service.engine.event_store import EventStoreWorkSource
from service.engine.loop import JobEngine
from service.engine.steps import JobSteps
from service.strategies.limits import TypeLimits, limits_of

if TYPE_CHECKING:
    from eventsourcing.persistence import TrackingRecorder

    from service.application import Jobstream
    from service.settings import Settings
    from service.strategies.registry import StrategyRegistry


def job_steps(
    settings: Settings,
    app: Jobstream,
    registry: StrategyRegistry,
    clock: Clock = SYSTEM_CLOCK,
    *,
    run_on: bool = True,
) -> JobSteps:
    """The steps as `settings` configure them (attempts, lease length).

    `run_on`: a job's batch.created delivery runs its processing too (JobSteps).
    """
    return JobSteps(
        app=app,
        registry=registry,
        clock=clock,
        max_attempts=settings.max_processing_attempts,
        lease_seconds=settings.lease_seconds,
        run_on=run_on,
    )


def embedded_engine(
    settings: Settings,
    app: Jobstream,
    registry: StrategyRegistry,
    position: TrackingRecorder,
) -> JobEngine:
    """An engine over the event store; `position` keeps where it got to."""
    steps = job_steps(settings, app, registry)
    source = EventStoreWorkSource(app, position, SYSTEM_CLOCK, steps.signals.cancel)
    return JobEngine(
        steps=steps,
        source=source,
        limits=TypeLimits(limits_of(settings.type_concurrency)),
        slots=settings.processor_threads,
    )
