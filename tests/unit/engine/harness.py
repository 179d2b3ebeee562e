"""The engine on a real application (in memory), a fake clock and memory work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from eventsourcing.application import project_aggregate

from domain.batch_jobs import BatchJob
from domain.strategies import AbstractBatchJobStrategy, BatchJobDraft, JobRun
from service.application import Jobstream
from service.engine.clock import FakeClock
from service.engine.event_store import TOPICS
from service.engine.loop import JobEngine
from service.engine.memory import InMemoryWorkSource
from service.engine.steps import JobSteps
from service.engine.work import Step
from service.strategies.limits import TypeLimits
from service.strategies.registry import StrategyRegistry
from tests.support import named

LEASE = 30.0
Hook = Callable[[JobRun], None]


class ScriptError(Exception):
    pass


@dataclass
class Script:
    """What a job of the scripted type does when its steps run."""

    pre_process: list[Hook] = field(default_factory=list)
    process: list[Hook] = field(default_factory=list)  # one hook per attempt
    retry: bool = False
    cleanups: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)


class ScriptedStrategy(AbstractBatchJobStrategy):
    batch_type: ClassVar[str] = "scripted"
    identifier: ClassVar[str] = "scripted-strategy"

    def __init__(self, script: Script) -> None:
        self.script = script

    def pre_process_batch_job(self, run: JobRun) -> None:
        self.script.runs.append("pre_process")
        if self.script.pre_process:
            self.script.pre_process.pop(0)(run)

    def process_job(self, run: JobRun) -> None:
        self.script.runs.append("process")
        if self.script.process:
            self.script.process.pop(0)(run)
        run.update(result={"done": True})

    def should_retry_on_processing_error(self, job: Any, error: Exception) -> bool:
        return self.script.retry

    def handle_canceled_processing(self, run: JobRun) -> None:
        self.script.cleanups.append(run.job_id)


class PlainStrategy(AbstractBatchJobStrategy):
    """Medusa's default: no pre-processing; its processing writes one result."""

    batch_type: ClassVar[str] = "plain"
    identifier: ClassVar[str] = "plain-strategy"

    def process_job(self, run: JobRun) -> None:
        run.update(result={"done": True})


def raises(message: str) -> Hook:
    def hook(_: JobRun) -> None:
        raise ScriptError(message)

    return hook


def new_app() -> Jobstream:
    return Jobstream(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def new_clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


@dataclass
class Worker:
    """One engine (a worker process) with its own memory source."""

    engine: JobEngine
    source: InMemoryWorkSource

    @property
    def steps(self) -> JobSteps:
        return self.engine.steps


def worker(
    app: Jobstream,
    clock: FakeClock,
    script: Script,
    *,
    name: str = "worker:a:1",
    limits: dict[str, int] | None = None,
    max_attempts: int = 3,
    run_on: bool = True,
) -> Worker:
    steps = JobSteps(
        app=app,
        registry=StrategyRegistry([ScriptedStrategy(script), PlainStrategy()]),
        clock=clock,
        max_attempts=max_attempts,
        lease_seconds=LEASE,
        actor=name,
        run_on=run_on,
    )
    source = InMemoryWorkSource(clock)
    engine = JobEngine(steps=steps, source=source, limits=TypeLimits(limits or {}))
    return Worker(engine, source)


class Relay:
    """What the relay and broker do: new work events to workers, cancels to all."""

    def __init__(self, app: Jobstream, *workers: Worker, copies: bool = True) -> None:
        self._app, self._workers, self._position = app, workers, 0
        # batch.created's delivery carries the job as the event made it, as the
        # event store's source does (JetStream's does not).
        self._copies = copies

    def __call__(self, to: Worker | None = None) -> int:
        """Deliver new events (work to `to`, or the first worker); return how many."""
        target = to or self._workers[0]
        page = self._app.recorder.select_notifications(
            start=self._position, limit=1000, topics=TOPICS, inclusive_of_start=False
        )
        for notification in page:
            self._position = notification.id
            event = self._app.mapper.to_domain_event(notification)
            job_id = str(notification.originator_id)
            if isinstance(event, BatchJob.Created):
                copy = project_aggregate(None, [event]) if self._copies else None
                target.source.put(job_id, Step.PRE_PROCESS, copy)
            elif isinstance(event, BatchJob.Confirmed):
                target.source.put(job_id, Step.PROCESS)
            else:
                for each in self._workers:
                    each.steps.signals.cancel(job_id)
        return len(page)


def create(
    app: Jobstream, *, dry_run: bool = False, batch_type: str = "scripted"
) -> str:
    draft = BatchJobDraft(type=batch_type, context={}, dry_run=dry_run)
    return app.create_batch_job(draft, "usr_1")[0].id


def event_names(app: Jobstream, job_id: str) -> list[str]:
    return [name for name, _ in named(app.repository.event_store.get(job_id))]


def run_until_idle(relay: Relay, worker: Worker) -> None:
    """Deliver and run until nothing new is left that is due."""
    while relay(worker) or worker.engine.run_pending():
        pass
