"""Per-type limits of one engine, and a cancel reaching a running strategy."""

from __future__ import annotations

import pytest

from domain.batch_jobs import BatchJob, BatchJobStatus
from domain.strategies import JobRun
from service.application import Jobstream
from service.engine.loop import LIMITED_DELAY
from service.engine.work import Step
from tests.unit.engine.harness import (
    Relay,
    Script,
    create,
    new_app,
    new_clock,
    run_until_idle,
    worker,
)


def test_a_type_at_its_limit_gives_work_back_for_later() -> None:
    app, clock, script = new_app(), new_clock(), Script()
    a = worker(app, clock, script, limits={"scripted": 1})
    first, second = create(app), create(app)
    seen: list[str | None] = []

    def while_running_another_arrives(_: JobRun) -> None:
        work = a.source.put(second, Step.PRE_PROCESS)
        a.engine.handle(a.source.fetch(1, 0)[0])
        seen.append(work.settled)

    script.pre_process.append(while_running_another_arrives)
    a.source.put(first, Step.PRE_PROCESS)
    a.engine.run_pending()

    assert seen == [f"nak:{LIMITED_DELAY:g}"]
    assert app.get_batch_job(second).status is BatchJobStatus.CREATED
    clock.advance(LIMITED_DELAY)
    a.engine.run_pending()  # the slot is free again
    assert app.get_batch_job(second).status is BatchJobStatus.COMPLETED


def test_an_unlimited_type_runs_beside_a_limited_one() -> None:
    app, clock, script = new_app(), new_clock(), Script()
    a = worker(app, clock, script, limits={"product-import": 1})
    first, second = create(app), create(app)
    seen: list[str | None] = []

    def while_running_another_arrives(_: JobRun) -> None:
        work = a.source.put(second, Step.PRE_PROCESS)
        a.engine.handle(a.source.fetch(1, 0)[0])
        seen.append(work.settled)

    script.pre_process.append(while_running_another_arrives)
    a.source.put(first, Step.PRE_PROCESS)
    a.engine.run_pending()

    assert seen == ["ack"]


def test_a_cancel_stops_a_running_job_and_its_output_is_taken_back() -> None:
    app, clock = new_app(), new_clock()
    script = Script()
    a = worker(app, clock, script)
    relay = Relay(app, a)

    def canceled_midway(run: JobRun) -> None:
        app.cancel_batch_job(run.job_id, "usr_1")
        relay()  # the cancel reaches the engine from the stream
        assert run.is_canceled()
        raise RuntimeError("stopped: canceled")  # as strategies stop on a cancel

    script.process.append(canceled_midway)
    job_id = create(app)

    run_until_idle(relay, a)

    job = app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.CANCELED
    assert job.failed_at is None
    assert script.cleanups == [job_id]
    assert a.source.settled[-1].settled == "ack"


def test_a_cancel_after_the_output_was_made_wins_over_completing() -> None:
    app, clock = new_app(), new_clock()
    script = Script()
    a = worker(app, clock, script)
    relay = Relay(app, a)

    def canceled_after_the_output(run: JobRun) -> None:
        app.cancel_batch_job(run.job_id, "usr_1")

    script.process.append(canceled_after_the_output)
    job_id = create(app)

    run_until_idle(relay, a)

    assert app.get_batch_job(job_id).status is BatchJobStatus.CANCELED
    assert script.cleanups == [job_id]


def test_a_cancel_of_a_job_run_on_is_cleaned_up_by_its_created_delivery() -> None:
    app, clock = new_app(), new_clock()
    script = Script()
    a = worker(app, clock, script)
    job_id = create(app)
    job = app.get_batch_job(job_id)
    job.set_pre_processing_done_and_claim("worker:gone:1", clock.now(), 30)
    app.save(job)
    app.cancel_batch_job(job_id, "usr_1")

    confirmed = a.source.put(job_id, Step.PROCESS)
    created = a.source.put(job_id, Step.PRE_PROCESS)
    a.engine.run_pending()

    assert (confirmed.settled, created.settled) == ("ack", "ack")
    assert script.cleanups == [job_id]  # once, by batch.created's delivery


def counted_reads(app: Jobstream, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The job ids `app.get_batch_job` is asked for from now on."""
    reads: list[str] = []
    read = app.get_batch_job

    def counting(job_id: str) -> BatchJob:
        reads.append(job_id)
        return read(job_id)

    monkeypatch.setattr(app, "get_batch_job", counting)
    return reads


def test_a_delivery_carrying_its_job_is_limited_without_a_read_of_the_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, clock, script = new_app(), new_clock(), Script()
    a = worker(app, clock, script, limits={"product-import": 1})
    job_id = create(app)
    carried = app.get_batch_job(job_id)
    asked: list[str] = []
    monkeypatch.setattr(a.steps, "read", asked.append)

    a.source.put(job_id, Step.PRE_PROCESS, created=carried)
    a.engine.run_pending()

    assert asked == []  # the type came with the delivery
    assert app.get_batch_job(job_id).status is BatchJobStatus.COMPLETED


def test_the_limit_and_the_step_share_one_read_of_a_job_not_carried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, clock, script = new_app(), new_clock(), Script()
    a = worker(app, clock, script, limits={"product-import": 1})
    unlimited = worker(app, clock, Script())  # no type limited: no read for it
    carried, plain = create(app), create(app)
    reads = counted_reads(app, monkeypatch)

    unlimited.source.put(plain, Step.PRE_PROCESS)
    unlimited.engine.run_pending()
    without_limits = reads.count(plain)
    a.source.put(carried, Step.PRE_PROCESS)
    a.engine.run_pending()

    assert without_limits >= 1  # the pre-processing's own read
    assert reads.count(carried) == without_limits  # the limit's read is that one
    assert app.get_batch_job(carried).status is BatchJobStatus.COMPLETED


def test_batch_confirmed_of_a_job_run_on_is_acked_without_a_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, clock, script = new_app(), new_clock(), Script()
    a = worker(app, clock, script, limits={"scripted": 4})
    job_id = create(app)
    a.source.put(job_id, Step.PRE_PROCESS)
    a.engine.run_pending()
    assert app.get_batch_job(job_id).status is BatchJobStatus.COMPLETED
    reads = counted_reads(app, monkeypatch)

    confirmed = a.source.put(job_id, Step.PROCESS)
    a.engine.run_pending()

    assert confirmed.settled == "ack"
    assert reads == []
