"""Leases on a batch job: taking, renewing, releasing, and the reaper's rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.batch_jobs import BatchJob, BatchJobStatus, LeaseHeldError, LeaseLostError
from domain.errors import NotAllowedError
from domain.leases import LeaseStep
from tests.support import named

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
WORKER_A, WORKER_B = "worker:a:1", "worker:b:2"


def new_job(*, dry_run: bool) -> BatchJob:
    return BatchJob.create(
        batch_type="product-export",
        created_by="usr_1",
        context={},
        dry_run=dry_run,
        actor="usr_1",
    )


def processing_job() -> BatchJob:
    job = new_job(dry_run=False)
    job.set_pre_processing_done(WORKER_A)
    job.set_processing(WORKER_A)
    job.collect_events()
    return job


def test_a_lease_records_holder_step_expiry_and_counts_the_attempt() -> None:
    job = processing_job()

    job.take_lease(WORKER_A, LeaseStep.PROCESSING, NOW, 30)

    assert named(job.collect_events()) == [("batch.lease_taken", WORKER_A)]
    assert job.lease_holder == WORKER_A
    assert job.lease_step == "processing"
    assert job.lease_expires_at == NOW + timedelta(seconds=30)
    assert job.attempts == {"processing": 1}
    assert job.lease_is_live(NOW + timedelta(seconds=29))
    assert not job.lease_is_live(NOW + timedelta(seconds=30))


def test_a_live_lease_is_not_taken_over_and_a_lapsed_one_is() -> None:
    job = processing_job()
    job.take_lease(WORKER_A, LeaseStep.PROCESSING, NOW, 30)

    with pytest.raises(LeaseHeldError):
        job.take_lease(WORKER_B, LeaseStep.PROCESSING, NOW + timedelta(seconds=10), 30)
    job.take_lease(WORKER_B, LeaseStep.PROCESSING, NOW + timedelta(seconds=31), 30)

    assert job.lease_holder == WORKER_B
    assert job.attempts_at(LeaseStep.PROCESSING) == 2


def test_only_the_holder_renews_and_a_renewal_moves_the_expiry() -> None:
    job = processing_job()
    job.take_lease(WORKER_A, LeaseStep.PROCESSING, NOW, 30)
    job.collect_events()

    assert not job.renew_lease(WORKER_B, NOW + timedelta(seconds=10), 30)
    assert job.renew_lease(WORKER_A, NOW + timedelta(seconds=10), 30)

    assert named(job.collect_events()) == [("batch.lease_renewed", WORKER_A)]
    assert job.lease_expires_at == NOW + timedelta(seconds=40)


def test_a_released_lease_has_no_holder_and_any_worker_may_take_it_at_once() -> None:
    job = processing_job()
    job.take_lease(WORKER_A, LeaseStep.PROCESSING, NOW, 30)

    job.release_lease(WORKER_A, take_by=NOW + timedelta(seconds=60))

    assert job.lease_holder is None
    assert job.lease_expires_at == NOW + timedelta(seconds=60)
    assert not job.lease_is_live(NOW)
    job.take_lease(WORKER_B, LeaseStep.PROCESSING, NOW, 30)
    assert job.lease_holder == WORKER_B


@pytest.mark.parametrize("finish", ["complete", "cancel", "fail"])
def test_a_final_job_has_no_lease_and_keeps_its_attempt_count(finish: str) -> None:
    job = processing_job()
    job.take_lease(WORKER_A, LeaseStep.PROCESSING, NOW, 30)

    {"complete": job.complete, "cancel": job.cancel, "fail": job.set_failed}[finish](
        WORKER_A
    )

    assert job.lease_holder is None
    assert job.lease_step is None
    assert job.lease_expires_at is None
    assert job.attempts == {"processing": 1}
    with pytest.raises(NotAllowedError):
        job.take_lease(WORKER_B, LeaseStep.PROCESSING, NOW, 30)
    assert not job.renew_lease(WORKER_A, NOW, 30)


def test_a_step_is_leased_only_in_its_own_status() -> None:
    created = new_job(dry_run=False)
    created.take_lease(WORKER_A, LeaseStep.PRE_PROCESSING, NOW, 30)
    created.set_pre_processing_done(WORKER_A)  # and confirmed: pre-processing is over

    with pytest.raises(NotAllowedError):
        created.take_lease(WORKER_B, LeaseStep.PRE_PROCESSING, NOW, 30)
    with pytest.raises(NotAllowedError):
        created.take_lease(WORKER_B, LeaseStep.PROCESSING, NOW, 30)  # not claimed yet
    assert created.lease_holder is None


def test_pre_processing_done_ends_that_steps_lease() -> None:
    job = new_job(dry_run=True)
    job.take_lease(WORKER_A, LeaseStep.PRE_PROCESSING, NOW, 30)

    job.set_pre_processing_done(WORKER_A)

    assert job.status is BatchJobStatus.PRE_PROCESSED
    assert job.lease_step is None
    assert job.attempts == {"pre_processing": 1}


def test_the_reaper_fails_a_job_only_once_its_lease_lapsed_by_the_grace() -> None:
    job = processing_job()
    job.take_lease(WORKER_A, LeaseStep.PROCESSING, NOW, 30)
    expired = NOW + timedelta(seconds=30)

    assert not job.fail_if_abandoned("reaper", expired + timedelta(seconds=299), 300)
    assert job.fail_if_abandoned("reaper", expired + timedelta(seconds=300), 300)

    assert job.status is BatchJobStatus.FAILED
    (message,) = (job.result or {})["errors"]
    assert message == (
        "Jobstream: no worker took up this batch job's processing within 300 s of its "
        "lease expiring at 2026-11-26T12:00:30+00:00 (last held by worker:a:1); "
        "it was failed so it does not wait forever"
    )
    assert not job.fail_if_abandoned("reaper", expired + timedelta(days=1), 300)


def test_a_job_never_leased_is_not_the_reapers() -> None:
    job = processing_job()

    assert not job.fail_if_abandoned("reaper", NOW + timedelta(days=365), 300)
    assert job.status is BatchJobStatus.PROCESSING


def test_an_attempt_may_write_until_another_attempt_takes_the_step_over() -> None:
    job = processing_job()
    job.take_lease(WORKER_A, LeaseStep.PROCESSING, NOW, 30)
    job.check_attempt(LeaseStep.PROCESSING, 1)
    job.cancel(WORKER_A)  # a cancel is no takeover: the attempt may still clean up
    job.check_attempt(LeaseStep.PROCESSING, 1)

    taken_over = processing_job()
    taken_over.take_lease(WORKER_A, LeaseStep.PROCESSING, NOW, 30)
    taken_over.take_lease(
        WORKER_B, LeaseStep.PROCESSING, NOW + timedelta(seconds=31), 30
    )

    with pytest.raises(LeaseLostError, match="attempt 1 was taken over by attempt 2"):
        taken_over.check_attempt(LeaseStep.PROCESSING, 1)
    taken_over.check_attempt(LeaseStep.PROCESSING, 2)
