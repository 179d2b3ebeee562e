"""A job's trace through the HTTP create and the embedded engine (both backends).

`serve` without NATS runs jobs in process from the event store: the steps join the
trace stored with the job. Spans are recorded by the SDK's in-memory exporter.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind

from tests.support import Caller, wait_for_status
from tests.tracing_support import (
    CALLER_SPAN_ID,
    CALLER_TRACE_ID,
    CALLER_TRACEPARENT,
    by_name,
    only,
    parent_id,
    recording_spans,
    span_id,
    trace_id,
)

JOB = {"type": "product-export", "context": {"pages": 2}}
STEPS = ("batch_job.pre_process", "batch_job.process")


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    with recording_spans() as recorded:
        yield recorded


def spans_once_ended(
    exporter: InMemorySpanExporter, names: tuple[str, ...], timeout: float = 10.0
) -> tuple[ReadableSpan, ...]:
    """The finished spans, once one of each name has ended (steps end on threads)."""
    deadline = time.monotonic() + timeout
    while True:
        finished = exporter.get_finished_spans()
        if set(names) <= set(by_name(finished)):
            return finished
        assert time.monotonic() < deadline, [s.name for s in finished]
        time.sleep(0.02)


def test_a_jobs_spans_from_create_to_its_steps_share_the_callers_trace(
    client: TestClient[Any], admin: Caller, exporter: InMemorySpanExporter
) -> None:
    headers = {**admin.headers, "traceparent": CALLER_TRACEPARENT}
    created = client.post("/admin/batch-jobs", json=JOB, headers=headers)
    assert created.status_code == 201, created.text
    job_id = created.json()["batch_job"]["id"]
    assert wait_for_status(client, admin, job_id)["status"] == "completed"

    finished = spans_once_ended(exporter, STEPS)
    server = only(finished, "POST /admin/batch-jobs")
    save = only(finished, "batch_job.save")
    pre_process = only(finished, "batch_job.pre_process")
    process = only(finished, "batch_job.process")
    assert {trace_id(s) for s in (server, save, pre_process, process)} == {
        CALLER_TRACE_ID
    }
    assert (server.kind, parent_id(server)) == (SpanKind.SERVER, CALLER_SPAN_ID)
    assert parent_id(save) == span_id(server)
    assert parent_id(pre_process) == span_id(save)
    assert parent_id(process) == span_id(save)
    assert dict(server.attributes or {}) == {
        "http.request.method": "POST",
        "http.route": "/admin/batch-jobs",
        "http.response.status_code": 201,
        "batch_job.id": job_id,
        "batch_job.type": "product-export",
    }
    assert (process.attributes or {})["batch_job.id"] == job_id


def test_the_stored_context_shows_in_the_history_not_in_the_job(
    client: TestClient[Any], admin: Caller
) -> None:
    with recording_spans() as exporter:
        traced = client.post("/admin/batch-jobs", json=JOB, headers=admin.headers)
    untraced = client.post("/admin/batch-jobs", json=JOB, headers=admin.headers)
    assert (traced.status_code, untraced.status_code) == (201, 201), traced.text
    job_id = traced.json()["batch_job"]["id"]
    other_id = untraced.json()["batch_job"]["id"]
    # Both at the same step: a document gains Jobstream's extension once worked on.
    fetched_job = wait_for_status(client, admin, job_id)
    other_job = wait_for_status(client, admin, other_id)
    fetched = client.get(f"/admin/batch-jobs/{job_id}", headers=admin.headers)
    events = client.get(f"/admin/batch-jobs/{job_id}/events", headers=admin.headers)

    server = only(exporter.get_finished_spans(), "POST /admin/batch-jobs")
    save = only(exporter.get_finished_spans(), "batch_job.save")
    assert server.parent is None  # no traceparent came: the job's trace starts here
    stored = events.json()["events"][0]["payload"]["trace_parent"]
    assert stored.startswith(f"00-{trace_id(save)}-{span_id(save)}-")
    # The Medusa document is the same with tracing on: no new key anywhere.
    assert "trace_parent" not in traced.text and "trace_parent" not in fetched.text
    assert set(traced.json()["batch_job"]) == set(untraced.json()["batch_job"])
    assert fetched_job["status"] == other_job["status"] == "completed"
    assert set(fetched_job) == set(other_job)


def test_with_tracing_off_a_create_makes_no_span_and_stores_no_context(
    client: TestClient[Any], admin: Caller
) -> None:
    with recording_spans() as exporter:
        pass  # on, then off again: what follows must not reach it
    headers = {**admin.headers, "traceparent": CALLER_TRACEPARENT}
    created = client.post("/admin/batch-jobs", json=JOB, headers=headers)
    assert created.status_code == 201, created.text
    job_id = created.json()["batch_job"]["id"]
    assert wait_for_status(client, admin, job_id)["status"] == "completed"
    events = client.get(f"/admin/batch-jobs/{job_id}/events", headers=admin.headers)

    assert exporter.get_finished_spans() == ()
    assert "trace_parent" not in events.json()["events"][0]["payload"]
