"""A job's trace in the engine: the save's span, and each step joining it.

Spans are recorded by the SDK's in-memory exporter; the application (in memory),
the steps and the work sources are real.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.popo import POPOTrackingRecorder
from eventsourcing.utils import get_topic
from opentelemetry.trace import SpanKind, StatusCode

import service.tracing
from domain.batch_jobs import BatchJob, BatchJobStatus
from service.audit import history
from service.engine.event_store import EventStoreWorkSource
from service.engine.jetstream import JetStreamWorkSource
from service.engine.loop import JobEngine
from service.engine.steps import JobSteps
from service.engine.work import Step
from service.strategies.registry import StrategyRegistry
from tests.tracing_support import (
    CALLER_SPAN_ID,
    CALLER_TRACE_ID,
    CALLER_TRACEPARENT,
    only,
    parent_id,
    recording_spans,
    span_id,
    trace_id,
)
from tests.unit.engine.harness import (
    LEASE,
    Script,
    ScriptedStrategy,
    create,
    new_app,
    new_clock,
    raises,
)
from tests.unit.engine.test_jetstream_source import ScriptedFetcher, message


def embedded_engine(app: Any, script: Script) -> JobEngine:
    steps = JobSteps(
        app=app,
        registry=StrategyRegistry([ScriptedStrategy(script)]),
        clock=new_clock(),
        lease_seconds=LEASE,
    )
    source = EventStoreWorkSource(
        app, POPOTrackingRecorder(), new_clock(), steps.signals.cancel
    )
    return JobEngine(steps=steps, source=source)


def test_a_new_jobs_save_is_a_span_whose_context_the_job_keeps() -> None:
    app = new_app()
    with recording_spans() as exporter:
        job_id = create(app)

    save = only(exporter.get_finished_spans(), "batch_job.save")
    created = history.events_of(app, job_id)[0]
    assert isinstance(created, BatchJob.Created)
    assert dict(save.attributes or {}) == {
        "batch_job.id": job_id,
        "batch_job.type": "scripted",
        "batch_job.event": "batch.created",
    }
    assert save.parent is None  # no request around it: the trace starts here
    assert created.trace_parent is not None
    assert created.trace_parent[:-2] == f"00-{trace_id(save)}-{span_id(save)}-"
    assert int(created.trace_parent[-2:], 16) & 1  # sampled
    assert app.get_batch_job(job_id).trace_parent == created.trace_parent


def test_embedded_steps_join_the_trace_stored_with_the_job() -> None:
    app = new_app()
    with recording_spans() as exporter:
        job_id = create(app)
        jobs = embedded_engine(app, Script())
        jobs.run_pending()  # batch.created: pre-processed, confirmed, processed
        jobs.run_pending()  # batch.confirmed: not its delivery's, no span
        jobs.source.close()

    finished = exporter.get_finished_spans()
    save = only(finished, "batch_job.save")
    pre_process = only(finished, "batch_job.pre_process")
    process = only(finished, "batch_job.process")
    assert app.get_batch_job(job_id).status is BatchJobStatus.COMPLETED
    assert {trace_id(s) for s in finished} == {trace_id(save)}
    assert parent_id(pre_process) == span_id(save)
    assert parent_id(process) == span_id(save)
    assert pre_process.kind is SpanKind.CONSUMER
    assert dict(process.attributes or {}) == {
        "batch_job.id": job_id,
        "batch_job.type": "scripted",
        "batch_job.step": "process",
    }
    assert pre_process.end_time is not None and process.start_time is not None
    assert pre_process.end_time <= process.start_time


def test_a_retried_step_says_when_and_a_failed_one_is_an_error() -> None:
    app = new_app()
    script = Script(process=[raises("first"), raises("second")], retry=True)
    with recording_spans() as exporter:
        job_id = create(app)
        steps = JobSteps(
            app=app,
            registry=StrategyRegistry([ScriptedStrategy(script)]),
            clock=new_clock(),
            max_attempts=2,
            retry_delay=1.0,
        )
        first = steps.run(Step.PRE_PROCESS, job_id)  # processed on, retried
        second = steps.run(Step.PRE_PROCESS, job_id)  # its redelivery

    processes = [
        s for s in exporter.get_finished_spans() if s.name == "batch_job.process"
    ]
    assert (first, second) == (1.0, None)
    assert app.get_batch_job(job_id).status is BatchJobStatus.FAILED
    assert [(s.attributes or {}).get("batch_job.retry_in_s") for s in processes] == [
        1.0,
        None,
    ]
    assert [s.status.status_code for s in processes] == [
        StatusCode.UNSET,
        StatusCode.ERROR,
    ]
    assert processes[1].status.description == "second"


@dataclass
class TracedDelivery:
    """A JetStream message with headers, as nats-py delivers it."""

    data: bytes
    headers: dict[str, str] | None
    outcome: list[str] = field(default_factory=list)

    @property
    def metadata(self) -> Any:
        return SimpleNamespace(num_delivered=1)

    async def ack(self) -> None:
        self.outcome.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.outcome.append(f"nak:{delay}")

    async def term(self) -> None:
        self.outcome.append("term")

    async def in_progress(self) -> None:
        self.outcome.append("in_progress")


async def test_a_worker_step_is_a_child_of_the_traceparent_its_message_carries() -> (
    None
):
    app = new_app()
    fetcher = ScriptedFetcher([])
    steps = JobSteps(
        app=app,
        registry=StrategyRegistry([ScriptedStrategy(Script())]),
        clock=new_clock(),
    )
    jobs = JobEngine(
        steps=steps, source=JetStreamWorkSource(fetcher, asyncio.get_running_loop())
    )
    with recording_spans() as exporter:
        job_id = create(app)
        delivery = TracedDelivery(
            message("batch.created", job_id), {"traceparent": CALLER_TRACEPARENT}
        )
        fetcher.outcomes.append([delivery])
        assert await asyncio.to_thread(jobs.run_pending) == 1

    pre_process = only(exporter.get_finished_spans(), "batch_job.pre_process")
    assert delivery.outcome == ["ack"]
    assert trace_id(pre_process) == CALLER_TRACE_ID
    assert parent_id(pre_process) == CALLER_SPAN_ID
    assert pre_process.parent is not None and pre_process.parent.is_remote


def test_with_tracing_off_no_span_is_made_and_no_context_stored() -> None:
    app = new_app()
    with recording_spans() as exporter:
        pass  # a provider that would record, no longer in use
    assert service.tracing.enabled is False

    job_id = create(app)
    jobs = embedded_engine(app, Script())
    jobs.run_pending()
    jobs.run_pending()

    assert app.get_batch_job(job_id).status is BatchJobStatus.COMPLETED
    assert exporter.get_finished_spans() == ()
    assert app.get_batch_job(job_id).trace_parent is None
    created = app.recorder.select_events(job_id)[0]
    assert json.loads(created.state)["trace_parent"] is None


def test_a_created_event_stored_before_tracing_existed_still_loads() -> None:
    app = new_app()
    state = {
        "timestamp": {
            "_type_": "datetime_iso",
            "_data_": datetime.now(UTC).isoformat(),
        },
        "actor": "usr_1",
        "originator_topic": get_topic(BatchJob),
        "type": "scripted",
        "created_by": "usr_1",
        "context": {"n": 1},
        "dry_run": True,
        "retry_of": None,  # the version-1 upcast's default; no trace_parent shown
    }
    app.recorder.insert_events(
        [
            StoredEvent(
                originator_id="batch_old",
                originator_version=1,
                topic=get_topic(BatchJob.Created),
                state=json.dumps(state).encode(),
            )
        ]
    )

    job = app.get_batch_job("batch_old")
    timeline = history.history(app, "batch_old")

    assert (job.type, job.context, job.trace_parent) == ("scripted", {"n": 1}, None)
    assert timeline[0].payload == {
        "type": "scripted",
        "created_by": "usr_1",
        "context": {"n": 1},
        "dry_run": True,
        "retry_of": None,  # the version-1 upcast's default; no trace_parent shown
    }
