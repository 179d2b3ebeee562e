"""Retrying a failed job: a new job linked to the old one, which stays failed."""

from __future__ import annotations

from typing import Any, cast

import pytest

from domain.batch_jobs import BatchJob, BatchJobStatus
from domain.errors import NotAllowedError
from projections.batch_jobs.document import document
from projections.batch_jobs.row import BatchJobRow, fold
from tests.support import named

CREATOR = "usr_creator"
ADMIN = "usr_admin"
WORKER = "worker:a:1"


def new_job(
    *, dry_run: bool = False, context: dict[str, Any] | None = None
) -> BatchJob:
    return BatchJob.create(
        batch_type="product-export",
        created_by=CREATOR,
        context=context if context is not None else {"list_config": {"take": 50}},
        dry_run=dry_run,
        actor=CREATOR,
    )


def job_events(job: BatchJob) -> list[BatchJob.Event]:
    return [cast("BatchJob.Event", event) for event in job.collect_events()]


def failed_in_processing(*, dry_run: bool = False) -> BatchJob:
    job = new_job(dry_run=dry_run)
    job.set_pre_processing_done(WORKER)
    if dry_run:
        job.confirm(CREATOR)
    job.set_processing(WORKER)
    job.update(WORKER, context={"retry_count": 2}, result={"advancement_count": 7})
    job.set_failed(WORKER, "the warehouse was down")
    return job


def test_a_retry_is_a_new_job_with_the_same_work_and_a_link_back() -> None:
    failed = failed_in_processing()
    failed.collect_events()

    retried = failed.retry(ADMIN)

    assert retried.id != failed.id
    assert (retried.type, retried.created_by, retried.dry_run) == (
        "product-export", CREATOR, False,
    )  # fmt: skip
    # The context as created: not the strategy's bookkeeping (retry_count) since.
    assert retried.context == {"list_config": {"take": 50}}
    assert retried.retry_of == failed.id
    assert retried.status is BatchJobStatus.CREATED
    [created] = retried.collect_events()
    assert isinstance(created, BatchJob.Created)
    assert (created.NAME, created.actor, created.retry_of) == (
        "batch.created", ADMIN, failed.id,
    )  # fmt: skip


def test_the_failed_job_stays_failed_and_records_the_retry_and_who_asked() -> None:
    failed = failed_in_processing()
    failed.collect_events()
    updated_at = failed.updated_at

    retried = failed.retry(ADMIN)

    [event] = failed.collect_events()
    assert named([event]) == [("batch.retried", ADMIN)]
    assert isinstance(event, BatchJob.Retried)
    assert event.retry_id == retried.id
    assert failed.status is BatchJobStatus.FAILED
    assert failed.updated_at == updated_at  # Medusa's document does not move
    assert failed.retries == [retried.id]
    assert failed.retry_of is None


@pytest.mark.parametrize(
    "status",
    [s for s in BatchJobStatus if s is not BatchJobStatus.FAILED],
)
def test_only_a_failed_job_can_be_retried(status: BatchJobStatus) -> None:
    job = new_job(dry_run=True)
    steps = {
        BatchJobStatus.CREATED: [],
        BatchJobStatus.PRE_PROCESSED: ["pre"],
        BatchJobStatus.CONFIRMED: ["pre", "confirm"],
        BatchJobStatus.PROCESSING: ["pre", "confirm", "processing"],
        BatchJobStatus.COMPLETED: ["pre", "confirm", "processing", "complete"],
        BatchJobStatus.CANCELED: ["cancel"],
    }[status]
    actions = {
        "pre": lambda: job.set_pre_processing_done(WORKER),
        "confirm": lambda: job.confirm(CREATOR),
        "processing": lambda: job.set_processing(WORKER),
        "complete": lambda: job.complete(WORKER),
        "cancel": lambda: job.cancel(CREATOR),
    }
    for step in steps:
        actions[step]()
    job.collect_events()

    with pytest.raises(NotAllowedError) as refused:
        job.retry(ADMIN)

    assert str(refused.value) == (
        f"Only failed batch jobs can be retried; this one is {status}"
    )
    assert job.collect_events() == []
    assert job.retries == []


def test_a_job_canceled_and_then_failed_is_failed_and_can_be_retried() -> None:
    job = new_job()
    job.cancel(CREATOR)
    job.set_failed(WORKER, "late failure")

    assert job.retry(CREATOR).retry_of == job.id


def test_each_retry_of_the_same_job_is_linked() -> None:
    failed = failed_in_processing()

    first, second = failed.retry(ADMIN), failed.retry(CREATOR)

    assert failed.retries == [first.id, second.id]
    assert first.id != second.id
    assert (first.retry_of, second.retry_of) == (failed.id, failed.id)


def test_a_retry_of_a_retry_links_to_the_job_it_retries() -> None:
    first = failed_in_processing()
    second = first.retry(ADMIN)
    second.set_pre_processing_done(WORKER)
    second.set_processing(WORKER)
    second.set_failed(WORKER, "again")

    third = second.retry(ADMIN)

    assert (second.retry_of, third.retry_of) == (first.id, second.id)
    assert second.retries == [third.id]


def test_a_confirmed_dry_run_is_retried_without_waiting_for_a_confirm() -> None:
    failed = failed_in_processing(dry_run=True)

    assert failed.retry(ADMIN).dry_run is False


def test_a_dry_run_that_failed_before_its_confirm_is_retried_as_a_dry_run() -> None:
    # An import whose preview failed: nobody confirmed it, nobody saw a preview.
    job = new_job(dry_run=True, context={"fileKey": "protected/products.csv"})
    job.set_failed(WORKER, "Failed to parse the file")

    retried = job.retry(CREATOR)

    assert retried.dry_run is True
    assert retried.context == {"fileKey": "protected/products.csv"}


def test_replaying_the_events_rebuilds_the_links_and_the_unchanged_time() -> None:
    failed = failed_in_processing()
    retried = failed.retry(ADMIN)

    copy: BatchJob | None = None
    for event in failed.collect_events():
        copy = event.mutate(copy)
    new_copy: BatchJob | None = None
    for event in retried.collect_events():
        new_copy = event.mutate(new_copy)

    assert copy is not None
    assert new_copy is not None
    assert (copy.retries, copy.version, copy.updated_at) == (
        [retried.id], failed.version, failed.updated_at,
    )  # fmt: skip
    assert (new_copy.retry_of, new_copy.created_context) == (
        failed.id, {"list_config": {"take": 50}},
    )  # fmt: skip


def test_the_read_models_fold_passes_over_a_retry_keeping_the_document() -> None:
    failed = failed_in_processing()
    rows: dict[str, BatchJobRow] = {}
    fold(rows, job_events(failed))
    before = document(rows[failed.id])

    failed.retry(ADMIN)
    changed = fold(rows, job_events(failed))

    assert changed == {failed.id}
    assert document(rows[failed.id]) == before
    assert rows[failed.id].version == failed.version


def test_what_follows_a_retry_is_folded_as_usual() -> None:
    failed = failed_in_processing()
    failed.retry(ADMIN)
    failed.cancel(CREATOR)  # Medusa allows it; the job stays failed
    rows: dict[str, BatchJobRow] = {}

    fold(rows, job_events(failed))

    assert rows[failed.id].canceled_at == failed.canceled_at
    assert rows[failed.id].updated_at == failed.updated_at == failed.canceled_at
    assert rows[failed.id].version == failed.version


def test_a_stored_created_event_of_version_1_reads_as_retrying_nothing() -> None:
    state: dict[str, object] = {"type": "product-export", "dry_run": False}

    BatchJob.Created.upcast_v1_v2(state)

    assert state == {"type": "product-export", "dry_run": False, "retry_of": None}
