"""BatchJob: every transition and refusal (Medusa's messages), precedence, replay."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from domain.batch_jobs import STAMP_FIELDS, BatchJob, BatchJobStatus, derive_status
from domain.errors import InvalidDataError, NotAllowedError, NotJobOwnerError
from tests.support import named

USER = "usr_1"


def created_job(
    *, dry_run: bool = False, context: dict[str, Any] | None = None
) -> BatchJob:
    job = BatchJob.create(
        batch_type="product-export",
        created_by=USER,
        context=context or {},
        dry_run=dry_run,
        actor=USER,
    )
    job.collect_events()  # given: the creation is not what these tests are about
    return job


def job_in(status: BatchJobStatus) -> BatchJob:
    job = created_job(dry_run=True)
    steps = {
        BatchJobStatus.CREATED: [],
        BatchJobStatus.PRE_PROCESSED: ["pre"],
        BatchJobStatus.CONFIRMED: ["pre", "confirm"],
        BatchJobStatus.PROCESSING: ["pre", "confirm", "processing"],
        BatchJobStatus.COMPLETED: ["pre", "confirm", "processing", "complete"],
        BatchJobStatus.CANCELED: ["cancel"],
        BatchJobStatus.FAILED: ["fail"],
    }[status]
    for step in steps:
        {
            "pre": lambda: job.set_pre_processing_done("w"),
            "confirm": lambda: job.confirm(USER),
            "processing": lambda: job.set_processing("w"),
            "complete": lambda: job.complete("w"),
            "cancel": lambda: job.cancel(USER),
            "fail": lambda: job.set_failed("w"),
        }[step]()
    job.collect_events()
    assert job.status is status
    return job


def event_names(job: BatchJob) -> list[str]:
    return [name for name, _ in named(job.collect_events())]


def test_a_new_job_is_created_with_an_id_and_its_creator() -> None:
    job = BatchJob.create(
        batch_type="product-export",
        created_by=USER,
        context={"a": 1},
        dry_run=False,
        actor=USER,
    )

    assert job.id.startswith("batch_")
    assert len(job.id) == len("batch_") + 26
    assert (job.status, job.type, job.created_by, job.context) == (
        BatchJobStatus.CREATED,
        "product-export",
        USER,
        {"a": 1},
    )
    assert job.result is None
    assert named(job.collect_events()) == [("batch.created", USER)]


def test_pre_processing_a_dry_run_job_stops_at_pre_processed() -> None:
    job = created_job(dry_run=True)

    job.set_pre_processing_done("worker:1")

    assert job.status is BatchJobStatus.PRE_PROCESSED
    assert job.pre_processed_at is not None
    assert job.confirmed_at is None
    assert event_names(job) == ["batch.pre_processed"]


def test_pre_processing_a_job_that_is_not_a_dry_run_also_confirms_it() -> None:
    job = created_job(dry_run=False)

    job.set_pre_processing_done("worker:1")

    assert job.status is BatchJobStatus.CONFIRMED
    assert job.pre_processed_at is not None and job.confirmed_at is not None
    assert event_names(job) == ["batch.pre_processed", "batch.confirmed"]


def test_pre_processing_done_twice_changes_nothing() -> None:
    job = job_in(BatchJobStatus.PRE_PROCESSED)

    job.set_pre_processing_done("w")

    assert event_names(job) == []


@pytest.mark.parametrize(
    "status", [BatchJobStatus.CONFIRMED, BatchJobStatus.CANCELED, BatchJobStatus.FAILED]
)
def test_pre_processing_is_refused_unless_created(status: BatchJobStatus) -> None:
    job = job_in(status)

    with pytest.raises(NotAllowedError) as refusal:
        job.set_pre_processing_done("w")

    assert refusal.value.message == (
        "Cannot mark a batch job as pre processed if it is not in created status"
    )
    assert event_names(job) == []


def test_confirming_a_pre_processed_job() -> None:
    job = job_in(BatchJobStatus.PRE_PROCESSED)

    job.confirm(USER)

    assert job.status is BatchJobStatus.CONFIRMED
    assert job.processing_at is None
    assert event_names(job) == ["batch.confirmed"]


@pytest.mark.parametrize(
    "status",
    [
        BatchJobStatus.CREATED,
        BatchJobStatus.CONFIRMED,
        BatchJobStatus.PROCESSING,
        BatchJobStatus.COMPLETED,
        BatchJobStatus.CANCELED,
        BatchJobStatus.FAILED,
    ],
)
def test_confirming_is_refused_unless_pre_processed(status: BatchJobStatus) -> None:
    job = job_in(status)

    with pytest.raises(NotAllowedError) as refusal:
        job.confirm(USER)

    assert refusal.value.message == (
        "Cannot confirm processing for a batch job that is not pre processed"
    )
    assert refusal.value.type == "not_allowed"
    assert event_names(job) == []


def test_setting_a_confirmed_job_processing() -> None:
    job = job_in(BatchJobStatus.CONFIRMED)

    job.set_processing("w")

    assert job.status is BatchJobStatus.PROCESSING
    assert event_names(job) == ["batch.processing"]


@pytest.mark.parametrize(
    "status",
    [BatchJobStatus.CREATED, BatchJobStatus.PROCESSING, BatchJobStatus.COMPLETED],
)
def test_processing_is_refused_unless_confirmed(status: BatchJobStatus) -> None:
    job = job_in(status)

    with pytest.raises(NotAllowedError) as refusal:
        job.set_processing("w")

    assert refusal.value.message == (
        "Cannot mark a batch job as processing if the status is different that confirmed"
    )


def test_completing_a_processing_job() -> None:
    job = job_in(BatchJobStatus.PROCESSING)

    job.complete("w")

    assert job.status is BatchJobStatus.COMPLETED
    assert event_names(job) == ["batch.completed"]


@pytest.mark.parametrize(
    "status",
    [BatchJobStatus.CREATED, BatchJobStatus.PRE_PROCESSED, BatchJobStatus.CANCELED],
)
def test_completing_is_refused_unless_processing(status: BatchJobStatus) -> None:
    job = job_in(status)

    with pytest.raises(InvalidDataError) as refusal:
        job.complete("w")

    assert refusal.value.message == (
        f'Cannot complete a batch job with status "{status.value}". '
        "The batch job must be processing"
    )
    assert refusal.value.type == "invalid_data"


@pytest.mark.parametrize(
    "status",
    [
        BatchJobStatus.CREATED,
        BatchJobStatus.PRE_PROCESSED,
        BatchJobStatus.CONFIRMED,
        BatchJobStatus.PROCESSING,
        BatchJobStatus.CANCELED,
    ],
)
def test_cancel_is_accepted_in_every_status_but_completed(
    status: BatchJobStatus,
) -> None:
    job = job_in(status)

    job.cancel(USER)

    assert job.status is BatchJobStatus.CANCELED
    assert event_names(job) == ["batch.canceled"]


def test_cancel_is_refused_for_a_completed_job() -> None:
    job = job_in(BatchJobStatus.COMPLETED)

    with pytest.raises(NotAllowedError) as refusal:
        job.cancel(USER)

    assert refusal.value.message == "Cannot cancel completed batch job"
    assert event_names(job) == []


def test_canceling_a_failed_job_stamps_it_but_it_stays_failed() -> None:
    job = job_in(BatchJobStatus.FAILED)

    job.cancel(USER)

    assert job.canceled_at is not None
    assert job.status is BatchJobStatus.FAILED


def test_canceling_again_overwrites_canceled_at() -> None:
    job = job_in(BatchJobStatus.CANCELED)
    first = job.canceled_at

    job.cancel(USER)

    assert job.canceled_at is not None and first is not None
    assert job.canceled_at > first


def test_failing_appends_the_error_to_result_errors() -> None:
    job = created_job()
    job.update("w", result={"errors": ["earlier"], "count": 3})

    job.set_failed("w", "boom")

    assert job.status is BatchJobStatus.FAILED
    assert job.result == {"errors": ["earlier", "boom"], "count": 3}
    assert event_names(job) == ["batch.updated", "batch.failed"]


def test_failing_without_an_error_leaves_result_alone() -> None:
    job = created_job()

    job.set_failed("w")

    assert job.result is None
    assert job.status is BatchJobStatus.FAILED


def test_updates_shallow_merge_result_and_context() -> None:
    job = created_job(context={"keep": 1, "nested": {"a": 1}})
    job.update("w", result={"operations": {"a": 1}, "count": 1})

    job.update(
        "w",
        result={"operations": {"b": 2}},
        context={"nested": {"b": 2}, "more": True},
        unset_result=["count"],
    )

    assert job.result == {"operations": {"b": 2}}
    assert job.context == {"keep": 1, "nested": {"b": 2}, "more": True}


def test_only_the_creator_may_access_a_job() -> None:
    job = created_job()

    job.ensure_accessible_by(USER)
    with pytest.raises(NotJobOwnerError) as refusal:
        job.ensure_accessible_by("usr_other")

    assert refusal.value.message == (
        "Cannot access a batch job that does not belong to the logged in user"
    )
    assert refusal.value.type == "not_allowed"


def test_every_event_names_its_actor_and_time() -> None:
    job = BatchJob.create(
        batch_type="t", created_by=USER, context={}, dry_run=False, actor=USER
    )
    job.set_pre_processing_done("worker:a")
    job.set_processing("worker:b")

    assert named(job.collect_events()) == [
        ("batch.created", USER),
        ("batch.pre_processed", "worker:a"),
        ("batch.confirmed", "worker:a"),
        ("batch.processing", "worker:b"),
    ]


@pytest.mark.parametrize(
    ("stamps", "status"),
    [
        ({}, BatchJobStatus.CREATED),
        ({"pre_processed_at"}, BatchJobStatus.PRE_PROCESSED),
        ({"pre_processed_at", "confirmed_at"}, BatchJobStatus.CONFIRMED),
        ({"confirmed_at", "processing_at"}, BatchJobStatus.PROCESSING),
        ({"processing_at", "completed_at"}, BatchJobStatus.COMPLETED),
        ({"completed_at", "canceled_at"}, BatchJobStatus.CANCELED),
        (set(STAMP_FIELDS), BatchJobStatus.FAILED),
        ({"canceled_at", "failed_at"}, BatchJobStatus.FAILED),
        ({"pre_processed_at", "canceled_at"}, BatchJobStatus.CANCELED),
    ],
)
def test_status_follows_medusas_precedence_whatever_the_times(
    stamps: set[str], status: BatchJobStatus
) -> None:
    # Older stamps for higher-precedence states: the order of fields wins, not time.
    values = {
        field: datetime(2020 - index, 1, 1, tzinfo=UTC)
        for index, field in enumerate(STAMP_FIELDS)
        if field in stamps
    }

    assert derive_status(values) is status


def test_replaying_the_events_rebuilds_the_same_state() -> None:
    job = BatchJob.create(
        batch_type="t", created_by=USER, context={"x": 1}, dry_run=True, actor=USER
    )
    job.update("w", result={"count": 2})
    job.set_pre_processing_done("w")
    job.confirm(USER)
    job.set_processing("w")
    job.set_failed("w", "boom")
    job.cancel(USER)

    copy: BatchJob | None = None
    for domain_event in job.collect_events():
        copy = domain_event.mutate(copy)

    assert copy is not None
    assert vars(copy) == vars(job)
    assert (copy.status, copy.version) == (BatchJobStatus.FAILED, 7)
