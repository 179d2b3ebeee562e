"""One job's trace across processes: `api`, `projections`, `relay` and `worker`.

Each role runs as a process of its own with `OTEL_TRACES_EXPORTER=console`, its
spans on its stdout (its log on stderr). The caller's traceparent starts the trace;
the API's create and save, the relay's publish (the context carried in the NATS
message) and the worker's steps must all be in it, each under its right parent.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from service.settings import Settings
from tests.conftest import create_database, drop_database, make_settings
from tests.integration.conftest import free_port
from tests.integration.processes import environment, install_test_strategy, wait_for_log
from tests.integration.test_processes import create_user
from tests.tracing_support import CALLER_SPAN_ID, CALLER_TRACE_ID, CALLER_TRACEPARENT

pytestmark = pytest.mark.integration

ROLES = {  # role: the log line that says it is ready
    "projections": "runtime.started",
    "relay": "relay.started",
    "worker": "worker.started",
    "api": "http.listening",
}


@pytest.fixture
def settings(tmp_path: Path, nats_url: str) -> Iterator[Settings]:
    """PostgreSQL and NATS shared by the roles, a database and stream of our own."""
    tag = uuid.uuid4().hex[:8]
    name = f"jobstream_trace_{tag}"
    url = create_database(name)
    try:
        yield msgspec.structs.replace(
            make_settings(tmp_path, url),
            nats_url=nats_url,
            nats_stream=f"JOBS_{tag}",
            nats_subject_prefix=f"t{tag}",
            worker_durable=f"workers-{tag}",
            lease_seconds=3.0,
            port=free_port(),
        )
    finally:
        drop_database(name)


def start_traced(
    settings: Settings, role: str, directory: Path, plugins: Path
) -> subprocess.Popen[bytes]:
    """`jobstream <role>`: spans (console exporter) to <role>.spans, log to <role>.log."""
    env = {
        **environment(settings, plugins),
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_SERVICE_NAME": f"jobstream-{role}",
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # milliseconds
    }
    with (
        (directory / f"{role}.spans").open("ab") as spans,
        (directory / f"{role}.log").open("ab") as log,
    ):
        return subprocess.Popen(
            [sys.executable, "-m", "service", role], env=env, stdout=spans, stderr=log
        )


def read_spans(path: Path) -> list[dict[str, Any]]:
    """The console exporter's JSON documents, one after another."""
    text, decoder, found, at = path.read_text(), json.JSONDecoder(), [], 0
    while (at := text.find("{", at)) != -1:
        try:
            document, end = decoder.raw_decode(text, at)
        except ValueError:
            at += 1  # not a span (a stray line): look further
            continue
        if isinstance(document, dict) and "context" in document:
            found.append(document)
        at = end
    return found


def hex_id(value: str | None) -> str | None:
    return None if value is None else value.removeprefix("0x")


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each (its bootstrap's close flushes its spans), the newest first."""
    for process in reversed(processes):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_one_jobs_spans_from_every_process_share_one_trace(
    settings: Settings, tmp_path: Path
) -> None:
    plugins = install_test_strategy(tmp_path / "plugins")
    create_user(settings, "trace-token")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for role, ready in ROLES.items():
            processes.append(start_traced(settings, role, tmp_path, plugins))
            wait_for_log(tmp_path / f"{role}.log", ready)
        headers = {
            "x-medusa-access-token": "trace-token",
            "traceparent": CALLER_TRACEPARENT,
        }
        with httpx.Client(
            base_url=f"http://127.0.0.1:{settings.port}", headers=headers, timeout=30
        ) as client:
            created = client.post(
                "/admin/batch-jobs",
                json={"type": "product-export", "context": {"pages": 2}},
            )
            assert created.status_code == 201, created.text
            job_id = created.json()["batch_job"]["id"]
            deadline = time.monotonic() + 60
            while (status := job_status(client, job_id)) != "completed":
                assert time.monotonic() < deadline, status
                time.sleep(0.1)
    finally:
        stop(processes)

    spans = {role: read_spans(tmp_path / f"{role}.spans") for role in ROLES}
    server = one(spans["api"], "POST /admin/batch-jobs")
    save = one(spans["api"], "batch_job.save")
    publish = one(
        spans["relay"], f"publish {settings.nats_subject_prefix}.batch.created"
    )
    pre_process = one(spans["worker"], "batch_job.pre_process")
    process = one(spans["worker"], "batch_job.process")
    job_spans = [server, save, publish, pre_process, process]

    assert spans["projections"] == []
    assert {hex_id(s["context"]["trace_id"]) for s in job_spans} == {CALLER_TRACE_ID}
    assert [(s["name"], parent(s)) for s in job_spans] == [
        (server["name"], CALLER_SPAN_ID),
        (save["name"], span_id(server)),
        (publish["name"], span_id(save)),
        (pre_process["name"], span_id(publish)),  # from the message's header
        # Run on by the same delivery (the worker had room): the message's context.
        (process["name"], span_id(publish)),
    ]
    assert [s["kind"] for s in job_spans] == [
        "SpanKind.SERVER",
        "SpanKind.INTERNAL",
        "SpanKind.PRODUCER",
        "SpanKind.CONSUMER",
        "SpanKind.CONSUMER",
    ]
    assert all(s["attributes"]["batch_job.id"] == job_id for s in job_spans)
    assert all(s["attributes"]["batch_job.type"] == "product-export" for s in job_spans)
    assert [s["resource"]["attributes"]["service.name"] for s in job_spans] == [
        "jobstream-api",
        "jobstream-api",
        "jobstream-relay",
        "jobstream-worker",
        "jobstream-worker",
    ]


def job_status(client: httpx.Client, job_id: str) -> str:
    response = client.get(f"/admin/batch-jobs/{job_id}")
    assert response.status_code == 200, response.text
    return str(response.json()["batch_job"]["status"])


def one(spans: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = [s for s in spans if s["name"] == name]
    assert len(found) == 1, (name, [s["name"] for s in spans])
    return found[0]


def span_id(span: dict[str, Any]) -> str | None:
    return hex_id(span["context"]["span_id"])


def parent(span: dict[str, Any]) -> str | None:
    return hex_id(span["parent_id"])
