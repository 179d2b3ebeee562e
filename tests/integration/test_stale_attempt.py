"""An attempt whose job was taken over stands down: a finished job gains no event.

A worker paused or cut off past its lease, while another attempt took the job over
and completed it, used to append progress and errors to the completed job when it
came back. Every write of an attempt is fenced by its attempt number. Both backends.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from domain.batch_jobs import BatchJob
from domain.leases import LeaseStep
from domain.strategies import AbstractBatchJobStrategy, JobRun
from service.application import Jobstream
from service.engine.steps import JobSteps
from service.strategies.registry import StrategyRegistry

OTHER_WORKER = "worker:other-host:2"


class PausingStrategy(AbstractBatchJobStrategy):
    """Writes progress, waits to be let go, then writes again as a stale attempt would."""

    batch_type: ClassVar[str] = "product-export"
    identifier: ClassVar[str] = "pausing-strategy"

    def __init__(self) -> None:
        self.paused, self.resume = threading.Event(), threading.Event()

    def process_job(self, run: JobRun) -> None:
        run.update(result={"advancement_count": 1})
        self.paused.set()
        assert self.resume.wait(10)
        run.update(
            result={"advancement_count": 2, "file_key": "from-the-stale-attempt"}
        )


def confirmed_job(app: Jobstream) -> str:
    job = BatchJob.create(
        batch_type="product-export",
        created_by="usr_1",
        context={},
        dry_run=False,
        actor="usr_1",
    )
    job.set_pre_processing_done("usr_1")  # not a dry run: confirmed with it
    app.save(job)
    return job.id


def test_a_taken_over_attempt_writes_nothing_to_the_finished_job(
    app: Jobstream,
) -> None:
    strategy = PausingStrategy()
    steps = JobSteps(app=app, registry=StrategyRegistry([strategy]))
    job_id = confirmed_job(app)
    stale = threading.Thread(target=steps.process, args=(job_id,))
    stale.start()
    assert strategy.paused.wait(10)

    # Meanwhile its lease lapsed; another worker took the job over and completed it.
    job = app.get_batch_job(job_id)
    later = datetime.now(UTC) + timedelta(seconds=60)
    job.take_lease(OTHER_WORKER, LeaseStep.PROCESSING, later, 30)
    job.update(
        OTHER_WORKER, result={"advancement_count": 2, "file_key": "the-real-one"}
    )
    job.complete(OTHER_WORKER)
    app.save(job)
    finished = app.get_batch_job(job_id).version

    strategy.resume.set()
    stale.join(10)

    assert not stale.is_alive()
    job = app.get_batch_job(job_id)
    assert job.version == finished  # not one event after the completion
    assert job.status.value == "completed"
    assert job.result == {"advancement_count": 2, "file_key": "the-real-one"}
