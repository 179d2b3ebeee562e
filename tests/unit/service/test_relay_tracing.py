"""The relay's publish of a traced job: a producer span, its context in the headers.

The event store is real (in memory); JetStream is a fake that records what it is
asked to publish.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

from eventsourcing.popo import POPOTrackingRecorder
from opentelemetry.trace import SpanKind

from domain.strategies import BatchJobDraft
from service.application import Jobstream
from service.messaging.leadership import Leadership
from service.messaging.published_jobs import PublishedJobs
from service.messaging.relay import Relay
from tests.tracing_support import only, parent_id, recording_spans, span_id, trace_id


class AlwaysLeading(Leadership):
    async def acquire(self, stop: asyncio.Event) -> bool:
        return True

    async def still_held(self) -> bool:
        return True

    def leads(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class RecordingJetStream:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, str]]] = []

    async def publish_async(
        self, subject: str, payload: bytes, headers: dict[str, str]
    ) -> asyncio.Future[Any]:
        self.published.append((subject, headers))
        acked: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        acked.set_result(SimpleNamespace(duplicate=False))
        return acked


def relay_over(
    app: Jobstream,
    js: object,
    stream: str | None = None,
    published_jobs: PublishedJobs | None = None,
) -> Relay:
    """A relay that always leads, publishing under "jobs" to the fake `js`."""
    return Relay(
        app=app,
        tracking=POPOTrackingRecorder(),
        js=cast("Any", js),
        subject_prefix="jobs",
        leadership=AlwaysLeading(),
        stream=stream,
        published_jobs=published_jobs,
    )


def create(app: Jobstream) -> str:
    draft = BatchJobDraft(type="product-export", context={}, dry_run=True)
    job, _ = app.create_batch_job(draft, "usr_1")
    job.set_pre_processing_done("worker")  # events the relay does not trace
    job.confirm("usr_1")
    app.save(job)
    return job.id


async def test_a_traced_jobs_created_event_is_published_in_a_span_of_its_trace() -> (
    None
):
    app = Jobstream(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    js = RecordingJetStream()
    with recording_spans() as exporter:
        job_id = create(app)
        assert await relay_over(app, js).publish_once() == 3

    save = only(exporter.get_finished_spans(), "batch_job.save")
    publish = only(exporter.get_finished_spans(), "publish jobs.batch.created")
    (created_subject, created_headers), *others = js.published
    assert created_subject == "jobs.batch.created"
    assert created_headers["Nats-Msg-Id"] == f"{job_id}:1"
    assert created_headers["traceparent"].startswith(
        f"00-{trace_id(publish)}-{span_id(publish)}-"
    )
    assert [headers for _, headers in others] == [
        {"Nats-Msg-Id": f"{job_id}:2"},
        {"Nats-Msg-Id": f"{job_id}:3"},
    ]
    assert (trace_id(publish), parent_id(publish)) == (trace_id(save), span_id(save))
    assert publish.kind is SpanKind.PRODUCER
    assert dict(publish.attributes or {}) == {
        "messaging.system": "nats",
        "messaging.operation.type": "publish",
        "messaging.destination.name": "jobs.batch.created",
        "batch_job.id": job_id,
        "batch_job.type": "product-export",
    }


async def test_with_tracing_off_the_relay_sends_no_trace_header() -> None:
    app = Jobstream(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    js = RecordingJetStream()
    with recording_spans():
        job_id = create(app)  # stored with a context, while tracing was on

    await relay_over(app, js).publish_once()

    assert js.published[0] == ("jobs.batch.created", {"Nats-Msg-Id": f"{job_id}:1"})
