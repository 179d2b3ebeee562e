"""A job whose step meets an outage (NATS, PostgreSQL) is retried, not failed.

On both backends, through the engine's steps (what every work source runs).
"""

from __future__ import annotations

from typing import ClassVar

import nats.errors
import pytest

from domain.batch_jobs import BatchJobStatus
from domain.strategies import AbstractBatchJobStrategy, BatchJobDraft, JobRun
from service.bootstrap.stores import build_app
from service.engine import steps
from service.engine.steps import JobSteps
from service.retry import Backoff
from service.settings import Settings
from service.strategies.registry import StrategyRegistry


class FlakyStrategy(AbstractBatchJobStrategy):
    """Its steps raise `error` the first `failures` times, then succeed."""

    batch_type: ClassVar[str] = "flaky"
    identifier: ClassVar[str] = "flaky-strategy"

    def __init__(self, error: Exception, failures: int) -> None:
        self.error, self.failures = error, failures
        self.pre_process_calls = self.process_calls = 0

    def pre_process_batch_job(self, run: JobRun) -> None:
        self.pre_process_calls += 1
        if self.pre_process_calls <= self.failures:
            raise self.error

    def process_job(self, run: JobRun) -> None:
        self.process_calls += 1
        if self.process_calls <= self.failures:
            raise self.error
        run.update(result={"done": True})


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        steps, "JOB_BACKOFF", Backoff(first=0.01, most=0.02, budget=2.0)
    )


def run_job(settings: Settings, strategy: FlakyStrategy) -> tuple[str, str]:
    """The job's final status and its errors, after pre-processing and processing."""
    app = build_app(settings)
    try:
        jobs = JobSteps(app=app, registry=StrategyRegistry([strategy]))
        draft = BatchJobDraft(type="flaky", context={}, dry_run=False)
        job_id = app.create_batch_job(draft, "usr_1")[0].id
        jobs.pre_process(job_id)
        jobs.process(job_id)
        job = app.get_batch_job(job_id)
        return job.status.value, str((job.result or {}).get("errors", []))
    finally:
        app.close()


def test_a_step_that_meets_a_broker_outage_runs_again_and_completes(
    settings: Settings,
) -> None:
    strategy = FlakyStrategy(nats.errors.NoServersError(), failures=2)

    status, errors = run_job(settings, strategy)

    assert status == BatchJobStatus.COMPLETED.value
    assert errors == "[]"
    assert (strategy.pre_process_calls, strategy.process_calls) == (3, 3)


def test_a_jobs_own_error_fails_it_at_once(settings: Settings) -> None:
    strategy = FlakyStrategy(ValueError("Product Status bogus is not valid"), 1)

    status, errors = run_job(settings, strategy)

    assert status == BatchJobStatus.FAILED.value
    assert "Product Status bogus is not valid" in errors
    assert strategy.pre_process_calls == 1


def test_an_outage_longer_than_the_budget_fails_the_job_with_its_error(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        steps, "JOB_BACKOFF", Backoff(first=0.01, most=0.01, budget=0.1)
    )
    strategy = FlakyStrategy(nats.errors.NoServersError(), failures=10_000)

    status, errors = run_job(settings, strategy)

    assert status == BatchJobStatus.FAILED.value
    assert "no servers available for connection" in errors
