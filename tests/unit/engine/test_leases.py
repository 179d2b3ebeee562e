"""Leases under a fake clock: renewal, lapse, takeover, a stale worker standing down."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from domain.batch_jobs import BatchJobStatus
from domain.leases import LeaseStep
from domain.strategies import JobRun
from service.engine.work import Step
from tests.support import named
from tests.unit.engine.harness import (
    LEASE,
    Relay,
    Script,
    create,
    event_names,
    new_app,
    new_clock,
    run_until_idle,
    worker,
)


def test_the_engine_renews_the_leases_of_what_it_runs_and_heartbeats() -> None:
    app, clock = new_app(), new_clock()
    script = Script()
    a = worker(app, clock, script)
    relay = Relay(app, a)

    def a_while(run: JobRun) -> None:
        for _ in range(2):
            clock.advance(LEASE / 3)
            a.engine.tick()
            job = app.get_batch_job(run.job_id)
            assert job.lease_expires_at == clock.now() + timedelta(seconds=LEASE)

    script.process.append(a_while)
    job_id = create(app)

    run_until_idle(relay, a)

    names = event_names(app, job_id)
    assert names.count("batch.lease_renewed") == 2
    assert app.get_batch_job(job_id).status is BatchJobStatus.COMPLETED
    # batch.created's delivery ran the processing, and told the source it went on.
    [ran] = [w for w in a.source.settled if w.step is Step.PRE_PROCESS]
    assert (ran.settled, ran.heartbeats) == ("ack", 2)


def test_nothing_is_renewed_once_the_work_is_over() -> None:
    app, clock = new_app(), new_clock()
    a = worker(app, clock, Script())
    relay = Relay(app, a)
    job_id = create(app)
    run_until_idle(relay, a)
    version = app.get_batch_job(job_id).version

    a.engine.tick()

    assert app.get_batch_job(job_id).version == version


def test_a_live_lease_sends_the_work_back_until_it_would_lapse() -> None:
    app, clock = new_app(), new_clock()
    script_a, script_b = Script(), Script()
    a, b = worker(app, clock, script_a), worker(app, clock, script_b, name="worker:b:2")
    relay = Relay(app, a, b)
    seen: list[str | None] = []

    def meanwhile_b_gets_it(run: JobRun) -> None:
        clock.advance(10)
        # batch.created's delivery owns the job: its redelivery, elsewhere.
        work = b.source.put(run.job_id, Step.PRE_PROCESS)
        b.engine.run_pending()
        seen.append(work.settled)

    script_a.process.append(meanwhile_b_gets_it)
    job_id = create(app)

    run_until_idle(relay, a)

    # A's lease had LEASE - 10 s left: B retries half a second after it would lapse.
    assert seen == [f"nak:{LEASE - 10 + 0.5:g}"]
    assert script_b.runs == []
    assert app.get_batch_job(job_id).status is BatchJobStatus.COMPLETED


def test_a_lapsed_lease_is_taken_over_and_the_stale_worker_writes_nothing() -> None:
    app, clock = new_app(), new_clock()
    script_a, script_b = Script(), Script()
    a, b = worker(app, clock, script_a), worker(app, clock, script_b, name="worker:b:2")
    relay = Relay(app, a, b)
    finished: list[int] = []

    def paused_past_its_lease(run: JobRun) -> None:
        clock.advance(LEASE + 1)  # A is paused (a GC, a cut-off host)...
        b.source.put(run.job_id, Step.PRE_PROCESS)  # ...its message goes to B
        b.engine.run_pending()
        finished.append(app.get_batch_job(run.job_id).version)
        # A wakes up and writes: refused by the fence, A stands down.

    script_a.process.append(paused_past_its_lease)
    job_id = create(app)

    run_until_idle(relay, a)

    job = app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.COMPLETED
    assert job.version == finished[0]  # not one event after B completed it
    assert job.attempts_at(LeaseStep.PROCESSING) == 2
    events = named(app.repository.event_store.get(job_id))
    assert [name for name, actor in events if actor == "worker:b:2"] == [
        "batch.lease_taken",
        "batch.updated",
        "batch.completed",
    ]
    assert script_b.runs == ["process"]
    # A's delivery is over, quietly.
    assert [w.settled for w in a.source.settled if w.step is Step.PRE_PROCESS] == [
        "ack"
    ]


def test_a_step_taken_over_too_often_is_given_up() -> None:
    app, clock = new_app(), new_clock()
    a = worker(app, clock, Script(), max_attempts=2)
    job_id = create(app)
    job = app.get_batch_job(job_id)
    job.set_pre_processing_done("worker:gone:1")
    job.claim("worker:gone:1", clock.now(), LEASE)
    app.save(job)
    clock.advance(LEASE)
    job = app.get_batch_job(job_id)
    job.take_lease("worker:gone:2", LeaseStep.PROCESSING, clock.now(), LEASE)
    app.save(job)
    clock.advance(LEASE)

    a.source.put(job_id, Step.PROCESS)
    a.engine.run_pending()

    job = app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.FAILED
    message = (
        "Jobstream: gave up on this batch job's processing after 2 attempts; "
        "the last worker on it (worker:gone:2) stopped without finishing"
    )
    assert job.result == {"errors": [message]}


def test_the_leases_of_jobs_running_together_are_renewed_in_one_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, clock, script = new_app(), new_clock(), Script()
    a = worker(app, clock, script)
    first, second = create(app), create(app)
    saves: list[int] = []
    save = app.save

    def counted(*aggregates: Any) -> Any:
        saves.append(len(aggregates))
        return save(*aggregates)

    def both_running(_: JobRun) -> None:
        clock.advance(LEASE / 3)
        monkeypatch.setattr(app, "save", counted)
        a.engine.tick()
        monkeypatch.setattr(app, "save", save)

    def second_arrives(_: JobRun) -> None:
        a.source.put(second, Step.PRE_PROCESS)
        a.engine.run_pending()

    script.pre_process += [second_arrives, both_running]
    a.source.put(first, Step.PRE_PROCESS)
    a.engine.run_pending()

    assert saves == [2]
    for job_id in (first, second):
        assert event_names(app, job_id).count("batch.lease_renewed") == 1


def test_a_renewal_that_races_another_write_is_retried_on_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, clock, script = new_app(), new_clock(), Script()
    a = worker(app, clock, script)
    job_id = create(app)
    renewed: list[int] = []

    def raced(_: JobRun) -> None:
        clock.advance(LEASE / 3)

        save = app.save

        def lost_the_race(*aggregates: Any) -> Any:
            monkeypatch.setattr(app, "save", save)  # once
            raise IntegrityError("another write to the job came first")

        monkeypatch.setattr(app, "save", lost_the_race)  # the batch loses...
        renewed.append(a.steps.renew_leases([job_id]))  # ...each is renewed alone

    script.pre_process.append(raced)
    a.source.put(job_id, Step.PRE_PROCESS)
    a.engine.run_pending()

    assert renewed == [1]
    assert event_names(app, job_id).count("batch.lease_renewed") == 1
