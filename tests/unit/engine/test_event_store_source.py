"""Work read from the event store (embedded `serve`): steps, retries, the position."""

from __future__ import annotations

from eventsourcing.popo import POPOTrackingRecorder

from domain.batch_jobs import BatchJobStatus
from domain.strategies import JobRun
from service.application import Jobstream
from service.engine.clock import FakeClock
from service.engine.event_store import EventStoreWorkSource
from service.engine.loop import JobEngine
from service.engine.steps import JobSteps
from service.strategies.registry import StrategyRegistry
from tests.unit.engine.harness import (
    LEASE,
    Script,
    ScriptedStrategy,
    create,
    new_app,
    new_clock,
    raises,
)


def engine(
    app: Jobstream, clock: FakeClock, script: Script, position: POPOTrackingRecorder
) -> JobEngine:
    steps = JobSteps(
        app=app,
        registry=StrategyRegistry([ScriptedStrategy(script)]),
        clock=clock,
        lease_seconds=LEASE,
    )
    source = EventStoreWorkSource(app, position, clock, steps.signals.cancel)
    return JobEngine(steps=steps, source=source)


def recorded(app: Jobstream, position: POPOTrackingRecorder) -> int:
    return position.max_tracking_id(app.name) or 0


def test_jobs_run_from_their_events_and_the_position_is_recorded() -> None:
    app, clock, position = new_app(), new_clock(), POPOTrackingRecorder()
    script = Script()
    jobs = engine(app, clock, script, position)
    job_ids = [create(app), create(app)]

    jobs.run_pending()  # batch.created: pre-processed, confirmed, processed
    jobs.run_pending()  # batch.confirmed: left to the delivery that ran it
    jobs.source.close()

    assert [app.get_batch_job(j).status for j in job_ids] == [
        BatchJobStatus.COMPLETED
    ] * 2
    assert script.runs == ["pre_process", "process"] * 2
    confirmed_last = max(
        n.id
        for n in app.recorder.select_notifications(start=1, limit=100)
        if n.topic.endswith("Confirmed")
    )
    assert recorded(app, position) == confirmed_last


def test_a_retry_waits_in_flight_and_holds_the_position_below_it() -> None:
    app, clock, position = new_app(), new_clock(), POPOTrackingRecorder()
    jobs = engine(app, clock, Script(process=[raises("first")], retry=True), position)
    job_id = create(app)

    jobs.run_pending()
    jobs.run_pending()
    jobs.source.close()
    assert app.get_batch_job(job_id).status is BatchJobStatus.PROCESSING
    held_at = recorded(app, position)

    # A restart: the confirmed event is handled again, the retry is not lost.
    again = engine(app, clock, Script(), position)
    again.run_pending()

    assert app.get_batch_job(job_id).status is BatchJobStatus.COMPLETED
    assert held_at < max(n.id for n in app.recorder.select_notifications(1, 100))


def test_a_delayed_retry_runs_when_its_time_comes() -> None:
    app, clock, position = new_app(), new_clock(), POPOTrackingRecorder()
    jobs = engine(app, clock, Script(process=[raises("first")], retry=True), position)
    job_id = create(app)
    jobs.run_pending()
    jobs.run_pending()

    assert jobs.run_pending() == 0
    clock.advance(1)
    assert jobs.run_pending() == 1

    assert app.get_batch_job(job_id).status is BatchJobStatus.COMPLETED


def test_a_cancel_event_reaches_the_running_strategy() -> None:
    app, clock, position = new_app(), new_clock(), POPOTrackingRecorder()
    seen: list[bool] = []
    script = Script()
    jobs = engine(app, clock, script, position)

    def canceled_midway(run: JobRun) -> None:
        app.cancel_batch_job(run.job_id, "usr_1")
        jobs.source.fetch(1, 0)  # reads on: the cancel is signalled
        seen.append(run.is_canceled())

    script.process.append(canceled_midway)
    job_id = create(app)
    jobs.run_pending()
    jobs.run_pending()

    assert seen == [True]
    assert app.get_batch_job(job_id).status is BatchJobStatus.CANCELED
