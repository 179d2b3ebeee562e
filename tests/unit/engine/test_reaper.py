"""The reaper under a fake clock: a job whose lease stays lapsed is failed, once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from domain.batch_jobs import BatchJobStatus
from domain.strategies import JobRun
from service.processing.reaper import StuckJobReaper
from tests.unit.engine.harness import (
    LEASE,
    Relay,
    Script,
    create,
    event_names,
    new_app,
    new_clock,
    raises,
    run_until_idle,
    worker,
)

if TYPE_CHECKING:
    from service.application import Jobstream

STUCK_AFTER = 300.0


class LeaseIndex:
    """The read model's one query the reaper asks, answered from the jobs themselves."""

    def __init__(self, app: Jobstream, job_ids: list[str]) -> None:
        self._app, self._job_ids = app, job_ids

    def expired_leases(self, before: datetime, limit: int) -> list[str]:
        jobs = [self._app.get_batch_job(job_id) for job_id in self._job_ids]
        expired = [
            job
            for job in jobs
            if not job.is_final
            and job.lease_expires_at is not None
            and job.lease_expires_at < before
        ]
        expired.sort(key=lambda job: cast("datetime", job.lease_expires_at))
        return [job.id for job in expired[:limit]]


def reaper(app: Jobstream, clock: Any, job_ids: list[str]) -> StuckJobReaper:
    view: Any = LeaseIndex(app, job_ids)
    return StuckJobReaper(app, view, stuck_after=STUCK_AFTER, clock=clock)


def test_a_job_whose_worker_is_gone_is_failed_after_the_grace_with_a_message() -> None:
    app, clock = new_app(), new_clock()
    job_id = create(app)
    job = app.get_batch_job(job_id)
    job.set_pre_processing_done("usr_1")
    job.claim("worker:gone:1", clock.now(), LEASE)  # then the worker died
    app.save(job)
    expires_at = clock.now() + timedelta(seconds=LEASE)
    reap = reaper(app, clock, [job_id])

    clock.advance(LEASE + STUCK_AFTER - 1)
    assert reap.reap() == []
    clock.advance(2)
    assert reap.reap() == [job_id]
    assert reap.reap() == []  # failed once

    job = app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.FAILED
    message = (
        "Jobstream: no worker took up this batch job's processing within 300 s "
        f"of its lease expiring at {expires_at.isoformat()} (last held by "
        "worker:gone:1); it was failed so it does not wait forever"
    )
    assert job.result == {"errors": [message]}


def test_a_job_kept_alive_by_its_worker_is_not_reaped() -> None:
    app, clock, script = new_app(), new_clock(), Script()
    a = worker(app, clock, script)
    relay = Relay(app, a)
    reaped: list[list[str]] = []
    job_id = create(app)
    reap = reaper(app, clock, [job_id])

    def long_running(_: JobRun) -> None:
        for _round in range(40):  # 400 s of work, past lease and grace
            clock.advance(LEASE / 3)
            a.engine.tick()
            reaped.append(reap.reap())

    script.process.append(long_running)

    run_until_idle(relay, a)

    assert all(ids == [] for ids in reaped)
    assert app.get_batch_job(job_id).status is BatchJobStatus.COMPLETED


def test_a_retry_not_taken_up_in_time_is_reaped() -> None:
    app, clock = new_app(), new_clock()
    a = worker(app, clock, Script(process=[raises("first")], retry=True))
    relay = Relay(app, a)
    job_id = create(app)
    reap = reaper(app, clock, [job_id])
    run_until_idle(relay, a)
    clock.advance(1)
    assert len(a.source.fetch(10, 0)) == 1  # the retry's message, lost here

    clock.advance(LEASE + STUCK_AFTER + 1)

    assert reap.reap() == [job_id]
    assert "(last held for a retry)" in str(app.get_batch_job(job_id).result)


def test_a_worker_back_after_the_reaper_failed_its_job_writes_nothing() -> None:
    """Paused past its lease and the grace (no other worker to take over): the reaper
    fails the job, and the worker's next write, when it wakes, stands down."""
    app, clock, script = new_app(), new_clock(), Script()
    a = worker(app, clock, script)
    relay = Relay(app, a)
    job_id = create(app)
    reap = reaper(app, clock, [job_id])
    reaped: list[str] = []

    def paused_then_writes(run: JobRun) -> None:
        clock.advance(LEASE + STUCK_AFTER + 1)  # no renewal: the worker is paused
        reaped.extend(reap.reap())
        run.update(result={"advancement_count": 1})  # its progress, when it wakes

    script.process.append(paused_then_writes)
    run_until_idle(relay, a)

    assert reaped == [job_id]
    job = app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.FAILED
    assert event_names(app, job_id)[-1] == "batch.failed"  # nothing after it
    assert "advancement_count" not in (job.result or {})
