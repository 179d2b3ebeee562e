"""The read model's jobs waiting for a worker, on both backends (the relay's redrive)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from domain.batch_jobs import BatchJob
from domain.leases import LeaseStep
from service.runtime import Runtime

pytestmark = pytest.mark.integration
EVERY = 1_000_000  # PostgreSQL's session database holds earlier tests' jobs too


@pytest.fixture
def runtime(views_only: Runtime) -> Runtime:
    return views_only


def saved(runtime: Runtime, *steps: str) -> str:
    job = BatchJob.create(
        batch_type="product-export", created_by="usr_waiting", context={},
        dry_run=True, actor="usr_waiting",
    )  # fmt: skip
    for step in steps:
        if step == "pre_processed":
            job.set_pre_processing_done("usr_waiting")
        elif step == "confirmed":
            job.confirm("usr_waiting")
        elif step == "leased":  # pre-processing
            job.take_lease(
                "worker:h:1", LeaseStep.PRE_PROCESSING, datetime.now(UTC), 30
            )
        elif step == "claimed":  # processing
            job.claim("worker:h:1", datetime.now(UTC), 30)
        elif step == "canceled":
            job.cancel("usr_waiting")
    position = runtime.app.save(job)[-1].notification.id
    runtime.settle(position)
    time.sleep(0.005)  # each job its own updated_at
    return job.id


def test_created_and_confirmed_jobs_no_worker_holds_are_listed_longest_waiting_first(
    runtime: Runtime,
) -> None:
    confirmed = saved(runtime, "pre_processed", "confirmed")
    created = saved(runtime)
    left_out = [
        saved(runtime, "pre_processed"),  # waits for its creator, not a worker
        saved(runtime, "leased"),
        saved(runtime, "pre_processed", "confirmed", "claimed"),
        saved(runtime, "canceled"),
    ]
    before = datetime.now(UTC) + timedelta(milliseconds=1)
    time.sleep(0.005)
    too_recent = saved(runtime)
    mine = {confirmed, created, too_recent, *left_out}

    listed = runtime.view.waiting_for_work(before, EVERY)

    assert [job for job in listed if job in mine] == [confirmed, created]


def test_the_limit_keeps_the_longest_waiting(runtime: Runtime) -> None:
    first = saved(runtime)
    saved(runtime)
    before = datetime.now(UTC) + timedelta(milliseconds=1)

    listed = runtime.view.waiting_for_work(before, EVERY)
    assert first in listed
    assert runtime.view.waiting_for_work(before, listed.index(first) + 1)[-1] == first
