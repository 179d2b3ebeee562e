"""The engine's commands on a batch job: claim, retry bookkeeping, step failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.batch_jobs import BatchJob, BatchJobStatus
from domain.errors import NotAllowedError
from domain.leases import LeaseStep
from tests.support import named

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
WORKER = "worker:a:1"


def confirmed_job() -> BatchJob:
    job = BatchJob.create(
        batch_type="product-export",
        created_by="usr_1",
        context={},
        dry_run=False,
        actor="usr_1",
    )
    job.set_pre_processing_done(WORKER)
    job.collect_events()
    return job


def test_a_claim_starts_processing_under_a_lease_in_one_event() -> None:
    job = confirmed_job()

    job.claim(WORKER, NOW, 30)

    assert named(job.collect_events()) == [("batch.processing", WORKER)]
    assert job.status is BatchJobStatus.PROCESSING
    assert job.lease_holder == WORKER
    assert job.lease_step == LeaseStep.PROCESSING
    assert job.lease_expires_at == NOW + timedelta(seconds=30)
    assert job.attempts_at(LeaseStep.PROCESSING) == 1
    job.check_attempt(LeaseStep.PROCESSING, 1)  # the claim is attempt 1


def test_a_claim_is_refused_unless_confirmed_with_medusas_message() -> None:
    job = confirmed_job()
    job.claim(WORKER, NOW, 30)

    with pytest.raises(NotAllowedError) as refused:
        job.claim("worker:b:2", NOW, 30)

    assert str(refused.value) == (
        "Cannot mark a batch job as processing "
        "if the status is different that confirmed"
    )


def test_a_stored_processing_event_of_version_1_reads_as_no_lease() -> None:
    state: dict[str, object] = {}

    BatchJob.ProcessingStarted.upcast_v1_v2(state)

    assert state == {"holder": None, "expires_at": None}


def test_a_stored_processing_event_of_version_2_was_not_claimed_with_a_confirmation() -> (
    None
):
    state: dict[str, object] = {"holder": WORKER, "expires_at": None}

    BatchJob.ProcessingStarted.upcast_v2_v3(state)

    assert state == {"holder": WORKER, "expires_at": None, "with_confirmation": False}


def test_pre_processing_done_and_claim_is_one_write_of_three_events() -> None:
    job = BatchJob.create(
        batch_type="t", created_by="usr_1", context={}, dry_run=False, actor="usr_1"
    )
    job.collect_events()

    job.set_pre_processing_done_and_claim(WORKER, NOW, 30)

    assert named(job.collect_events()) == [
        ("batch.pre_processed", WORKER),
        ("batch.confirmed", WORKER),
        ("batch.processing", WORKER),
    ]
    assert job.status is BatchJobStatus.PROCESSING
    assert job.runs_on_from_pre_processing
    assert (job.lease_holder, job.attempts_at(LeaseStep.PROCESSING)) == (WORKER, 1)
    assert job.lease_expires_at == NOW + timedelta(seconds=30)


def test_a_dry_run_is_only_pre_processed_by_it() -> None:
    job = BatchJob.create(
        batch_type="t", created_by="usr_1", context={}, dry_run=True, actor="usr_1"
    )
    job.collect_events()

    job.set_pre_processing_done_and_claim(WORKER, NOW, 30)

    assert named(job.collect_events()) == [("batch.pre_processed", WORKER)]
    assert job.lease_holder is None
    assert not job.runs_on_from_pre_processing


def test_a_claim_after_a_confirmation_of_its_own_runs_where_confirmed() -> None:
    job = confirmed_job()

    job.claim(WORKER, NOW, 30)

    assert not job.runs_on_from_pre_processing


def test_set_processing_alone_takes_no_lease() -> None:
    job = confirmed_job()

    job.set_processing(WORKER)

    assert job.status is BatchJobStatus.PROCESSING
    assert job.lease_holder is None
    assert job.attempts == {}


def test_a_retry_counts_keeps_the_message_and_releases_the_lease() -> None:
    job = confirmed_job()
    job.claim(WORKER, NOW, 30)
    job.update(WORKER, result={"errors": ["earlier"]})
    job.collect_events()
    take_by = NOW + timedelta(seconds=31)

    job.record_retry(WORKER, "boom", 1, take_by)

    assert [name for name, _ in named(job.collect_events())] == [
        "batch.updated",
        "batch.lease_released",
    ]
    assert job.context["retry_count"] == 1
    assert job.result == {"errors": ["earlier", "boom"]}
    assert (job.lease_holder, job.lease_expires_at) == (None, take_by)
    assert job.status is BatchJobStatus.PROCESSING


def test_a_failed_step_fails_the_job_with_its_message() -> None:
    job = confirmed_job()
    job.claim(WORKER, NOW, 30)
    job.collect_events()

    assert job.fail_step(WORKER, "boom", BatchJobStatus.PROCESSING)

    assert named(job.collect_events()) == [("batch.failed", WORKER)]
    assert job.status is BatchJobStatus.FAILED
    assert job.result == {"errors": ["boom"]}
    assert job.lease_holder is None


def test_further_errors_follow_the_message_in_one_update() -> None:
    job = confirmed_job()
    job.claim(WORKER, NOW, 30)
    job.collect_events()

    job.fail_step(WORKER, "3 rows are bad", BatchJobStatus.PROCESSING, ["row 2"])

    assert [name for name, _ in named(job.collect_events())] == [
        "batch.updated",
        "batch.failed",
    ]
    assert job.result == {"errors": ["3 rows are bad", "row 2"]}


@pytest.mark.parametrize("moved_on", ["canceled", "completed"])
def test_a_step_failure_leaves_a_job_that_moved_on_alone(moved_on: str) -> None:
    job = confirmed_job()
    job.claim(WORKER, NOW, 30)
    if moved_on == "canceled":
        job.cancel("usr_1")
    else:
        job.complete("worker:b:2")
    job.collect_events()

    assert not job.fail_step(WORKER, "boom", BatchJobStatus.PROCESSING)

    assert job.collect_events() == []
    assert job.status.value == moved_on
