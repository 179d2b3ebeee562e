"""Medusa's retries: counted in context, messages kept, backoff, then give up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from eventsourcing.persistence import OperationalError

from domain.batch_jobs import BatchJob, BatchJobStatus
from domain.leases import LeaseStep
from service.engine.loop import ERROR_DELAY, error_delay
from service.engine.work import Step
from tests.unit.engine.harness import (
    LEASE,
    Relay,
    Script,
    create,
    new_app,
    new_clock,
    raises,
    run_until_idle,
    worker,
)


def test_a_retried_job_comes_back_after_a_doubling_delay_then_completes() -> None:
    app, clock = new_app(), new_clock()
    script = Script(process=[raises("first"), raises("second")], retry=True)
    a = worker(app, clock, script)
    relay = Relay(app, a)
    job_id = create(app)

    run_until_idle(relay, a)

    job = app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.PROCESSING
    assert job.context["retry_count"] == 1
    assert job.result == {"errors": ["first"]}
    # Released for any worker to take by the retry's delay and a lease length.
    assert job.lease_holder is None
    assert job.lease_expires_at == clock.now() + timedelta(seconds=1 + LEASE)
    # batch.created's delivery ran it and comes back; batch.confirmed's is done.
    assert [(w.step, w.settled) for w in a.source.settled] == [
        (Step.PRE_PROCESS, "nak:1"),
        (Step.PROCESS, "ack"),
    ]

    clock.advance(0.999)
    assert a.engine.run_pending() == 0  # not due yet
    clock.advance(0.001)
    run_until_idle(relay, a)
    assert a.source.settled[-1].step is Step.PRE_PROCESS
    assert a.source.settled[-1].settled == "nak:2"
    assert app.get_batch_job(job_id).result == {"errors": ["first", "second"]}

    clock.advance(2)
    run_until_idle(relay, a)

    job = app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.COMPLETED
    assert job.context["retry_count"] == 2
    assert job.result == {"errors": ["first", "second"], "done": True}
    assert job.attempts_at(LeaseStep.PROCESSING) == 3
    assert script.runs == ["pre_process", "process", "process", "process"]


def test_retries_give_up_after_the_last_attempt_with_its_message() -> None:
    app, clock = new_app(), new_clock()
    failures = [raises(f"attempt {n}") for n in (1, 2, 3)]
    a = worker(app, clock, Script(process=failures, retry=True))
    relay = Relay(app, a)
    job_id = create(app)

    run_until_idle(relay, a)
    clock.advance(1)
    run_until_idle(relay, a)
    clock.advance(2)
    run_until_idle(relay, a)

    job = app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.FAILED
    assert job.result == {"errors": ["attempt 1", "attempt 2", "attempt 3"]}
    assert a.source.waiting == 0
    assert a.source.settled[-1].settled == "ack"


def test_a_job_whose_strategy_does_not_retry_fails_at_once() -> None:
    app, clock = new_app(), new_clock()
    a = worker(app, clock, Script(process=[raises("Product Status bogus")]))
    relay = Relay(app, a)
    job_id = create(app)

    run_until_idle(relay, a)

    job = app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.FAILED
    assert job.result == {"errors": ["Product Status bogus"]}


def test_an_error_without_a_message_gets_medusas() -> None:
    app, clock = new_app(), new_clock()
    a = worker(app, clock, Script(process=[raises("")]))
    relay = Relay(app, a)
    job_id = create(app)

    run_until_idle(relay, a)

    assert app.get_batch_job(job_id).result == {
        "errors": [f"Something went wrong with the batchJob {job_id}"]
    }


def test_an_engine_error_gives_the_work_back_with_a_doubling_delay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, clock = new_app(), new_clock()
    a = worker(app, clock, Script())
    job_id = create(app)

    def store_away(_: str) -> BatchJob:
        raise OperationalError("the database is away")

    monkeypatch.setattr(app, "get_batch_job", store_away)

    work = a.source.put(job_id, Step.PRE_PROCESS)
    a.engine.handle(a.source.fetch(1, 0)[0])

    assert work.settled == f"nak:{ERROR_DELAY:g}"
    assert [error_delay(n) for n in (1, 2, 7, 8)] == [1, 2, 64, 64]
