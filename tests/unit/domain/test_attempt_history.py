"""A job's runs of each step, read from its events: holder, time, and the run's error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

from domain.attempt_history import attempts_of
from domain.batch_jobs import BatchJob
from domain.leases import LeaseStep

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def confirmed_job() -> BatchJob:
    job = BatchJob.create(
        batch_type="product-export", created_by="usr_1", context={},
        dry_run=False, actor="usr_1",
    )  # fmt: skip
    job.take_lease("w1", LeaseStep.PRE_PROCESSING, NOW, 30)
    job.set_pre_processing_done("w1")
    return job


def events(job: BatchJob) -> list[BatchJob.Event]:
    return cast("list[BatchJob.Event]", job.collect_events())


def test_each_run_of_each_step_is_counted_with_its_holder_and_time() -> None:
    job = confirmed_job()
    job.claim("w2", NOW, 30)
    job.complete("w2")

    runs = attempts_of(events(job))

    assert [(r.step, r.attempt, r.holder, r.error) for r in runs] == [
        ("pre_processing", 1, "w1", None),
        ("processing", 1, "w2", None),
    ]
    assert runs[1].at > runs[0].at


def test_a_retry_s_message_is_its_run_s_error_and_the_failure_the_last_run_s() -> None:
    job = confirmed_job()
    job.claim("w1", NOW, 30)
    job.record_retry("w1", "timeout talking to the store", 1, NOW + timedelta(60))
    job.take_lease("w2", LeaseStep.PROCESSING, NOW + timedelta(seconds=61), 30)
    job.fail_step("w2", "bad row 7", job.status)

    runs = attempts_of(events(job))

    assert [(r.step, r.attempt, r.holder, r.error) for r in runs[1:]] == [
        ("processing", 1, "w1", "timeout talking to the store"),
        ("processing", 2, "w2", "bad row 7"),
    ]


def test_errors_after_a_step_ended_are_no_run_s() -> None:
    job = confirmed_job()
    job.update("usr_1", result={"errors": ["written after the step"]})

    (run,) = attempts_of(events(job))

    assert (run.step, run.attempt, run.error) == ("pre_processing", 1, None)


def test_a_failure_s_structured_error_is_shown_as_json() -> None:
    job = confirmed_job()
    job.claim("w1", NOW, 30)
    job.set_failed("w1", {"code": 7, "message": "gone"})

    assert attempts_of(events(job))[-1].error == '{"code": 7, "message": "gone"}'
