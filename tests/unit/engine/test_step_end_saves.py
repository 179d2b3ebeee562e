"""The save that ends a step, cut by an outage: retried, never redone, never failed.

The database may go away while `complete` (or pre-processing's end) is saved; the
save may even be stored with the caller told it failed (the connection cut at its
commit). The work is done and its output visible: the engine saves the end again
while it holds the lease, and a job found finished by its own save gains no event
(the strategy's error handling, which would rewrite the result, is not called).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError

from domain.batch_jobs import BatchJob, BatchJobStatus
from domain.strategies import JobRun
from service.application import Jobstream
from service.engine import steps
from service.engine.loop import JobEngine
from service.engine.memory import InMemoryWorkSource
from service.engine.steps import JobSteps
from service.retry import Backoff
from service.strategies.registry import StrategyRegistry
from tests.unit.engine.harness import (
    LEASE,
    Relay,
    Script,
    ScriptedStrategy,
    Worker,
    create,
    event_names,
    new_app,
    new_clock,
    run_until_idle,
)


class RecordingStrategy(ScriptedStrategy):
    """Writes its output's name, and says so when asked to clean up after an error."""

    def handle_processing_error(self, run: JobRun, error: Exception) -> None:
        self.script.runs.append("handle_processing_error")
        run.update(unset_result=("done",), result={"errors": [str(error)]})


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(steps, "JOB_BACKOFF", Backoff(first=0.01, most=0.01, budget=5))


def cut_once(
    app: Jobstream,
    monkeypatch: pytest.MonkeyPatch,
    event: type[BatchJob.Event],
    *,
    stored: bool,
) -> list[str]:
    """The first save holding `event` fails as a cut connection does (stored or not)."""
    save, cuts = app.save, list[str]()

    def cutting(*aggregates: Any) -> Any:
        hit = not cuts and any(isinstance(e, event) for e in aggregates)
        if not hit:
            return save(*aggregates)
        cuts.append(event.__name__)
        if stored:
            save(*aggregates)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(app, "save", cutting)
    return cuts


def scripted(app: Jobstream, script: Script) -> Callable[[], None]:
    """A worker whose strategy is RecordingStrategy; returns 'run until idle'."""
    clock = new_clock()
    job_steps = JobSteps(
        app=app,
        registry=StrategyRegistry([RecordingStrategy(script)]),
        clock=clock,
        lease_seconds=LEASE,
        actor="worker:a:1",
    )
    source = InMemoryWorkSource(clock)
    a = Worker(JobEngine(steps=job_steps, source=source), source)
    relay = Relay(app, a)
    return lambda: run_until_idle(relay, a)


@pytest.mark.parametrize("stored", [False, True], ids=["lost", "stored-unseen"])
def test_a_cut_save_of_complete_completes_the_job_once_without_redoing_it(
    monkeypatch: pytest.MonkeyPatch, *, stored: bool
) -> None:
    app, script = new_app(), Script()
    run = scripted(app, script)
    job_id = create(app)
    cuts = cut_once(app, monkeypatch, BatchJob.Completed, stored=stored)

    run()

    assert cuts == ["Completed"]
    job = app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.COMPLETED
    assert job.result == {"done": True}
    assert script.runs == ["pre_process", "process"]  # not redone, not cleaned up
    names = event_names(app, job_id)
    assert names.count("batch.completed") == 1
    assert names[-1] == "batch.completed"  # a finished job gains no event


@pytest.mark.parametrize("stored", [False, True], ids=["lost", "stored-unseen"])
def test_a_cut_save_of_pre_processing_s_end_confirms_the_job_once(
    monkeypatch: pytest.MonkeyPatch, *, stored: bool
) -> None:
    app, script = new_app(), Script()
    run = scripted(app, script)
    job_id = create(app)
    cuts = cut_once(app, monkeypatch, BatchJob.PreProcessed, stored=stored)

    run()

    assert cuts == ["PreProcessed"]
    assert app.get_batch_job(job_id).status is BatchJobStatus.COMPLETED
    assert script.runs == ["pre_process", "process"]
    names = event_names(app, job_id)
    assert names.count("batch.pre_processed") == 1
    assert names.count("batch.confirmed") == 1
    assert "batch.failed" not in names
