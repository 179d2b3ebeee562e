"""A cancel racing an export's end: the cancel wins or the completion does, never both.

A job that answered `canceled` ends without `file_key`/`file_size` in its result and
without a file in storage; a cancel that lost answers Medusa's "Cannot cancel
completed batch job". A gate on `FileWriter.commit` holds the export just before, or
just after, its file is committed, and the cancel lands there.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest
from litestar.testing import TestClient

from service.engine.steps import JobSteps
from service.files.storage import FileWriter
from service.runtime import Runtime
from tests.api.catalog.support import post, product
from tests.support import Caller, wait_for_status

GATE_SECONDS = 10.0


class CommitGate:
    """Holds export writers at their commit (`before` or `after` it) until released."""

    def __init__(self, where: str | None) -> None:
        self.where = where
        self.reached = threading.Event()
        self.go = threading.Event()
        self.committed: list[str] = []
        self._original = FileWriter.commit

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        gate = self

        def commit(writer: FileWriter) -> int:
            if not writer.key.startswith("exports/"):
                return gate._original(writer)
            gate._hold("before")
            size = gate._original(writer)
            gate.committed.append(writer.key)
            gate._hold("after")
            return size

        monkeypatch.setattr(FileWriter, "commit", commit)

    def _hold(self, where: str) -> None:
        if self.where == where:
            self.reached.set()
            self.go.wait(GATE_SECONDS)


def export(client: TestClient[Any], admin: Caller) -> str:
    response = post(
        client, admin, "/admin/batch-jobs", {"type": "product-export", "context": {}}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["batch_job"]["id"])


def settled_cancel(
    client: TestClient[Any],
    runtime: Runtime,
    admin: Caller,
    job_id: str,
    keys: list[str],
) -> dict[str, Any]:
    """The canceled job once its processor is done with it (bounded in time)."""
    deadline = time.monotonic() + GATE_SECONDS
    while True:
        job = wait_for_status(client, admin, job_id, ["canceled"])
        clean = "file_key" not in (job["result"] or {}) and not any(
            runtime.files.exists(key) for key in keys if job_id in key
        )
        if clean or time.monotonic() > deadline:
            return job
        time.sleep(0.02)


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_cancel_while_the_export_commits_its_file_leaves_no_file(
    client: TestClient[Any],
    runtime: Runtime,
    admin: Caller,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    gate = CommitGate(where)
    gate.install(monkeypatch)
    product(client, admin)
    job_id = export(client, admin)
    try:
        assert gate.reached.wait(GATE_SECONDS), "the export never reached its commit"
        canceled = post(client, admin, f"/admin/batch-jobs/{job_id}/cancel", {})
    finally:
        gate.go.set()

    assert canceled.status_code == 200, canceled.text
    job = settled_cancel(client, runtime, admin, job_id, gate.committed)
    assert job["status"] == "canceled"
    assert "file_key" not in job["result"]
    assert "file_size" not in job["result"]
    assert gate.committed  # the file was committed, and then taken back
    assert not any(runtime.files.exists(key) for key in gate.committed)


def test_a_redelivery_takes_back_the_file_of_a_job_canceled_after_its_commit(
    client: TestClient[Any],
    runtime: Runtime,
    admin: Caller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The worker stuck (as if dead) between its commit and its completion."""
    gate = CommitGate("after")
    gate.install(monkeypatch)
    product(client, admin)
    job_id = export(client, admin)
    try:
        assert gate.reached.wait(GATE_SECONDS), "the export never reached its commit"
        canceled = post(client, admin, f"/admin/batch-jobs/{job_id}/cancel", {})
        # Another worker, or this one restarted, gets the job's events again; the
        # delivery that ran it (batch.created's in `serve`, batch.confirmed's in a
        # worker) takes the output back, the other leaves the job alone.
        again = JobSteps(app=runtime.app, registry=runtime.registry)
        again.pre_process(job_id)
        again.process(job_id)
        result = runtime.app.get_batch_job(job_id).result or {}
        left = [key for key in gate.committed if runtime.files.exists(key)]
    finally:
        gate.go.set()

    assert canceled.status_code == 200, canceled.text
    assert gate.committed
    assert left == []
    assert "file_key" not in result
    assert "file_size" not in result
    job = settled_cancel(client, runtime, admin, job_id, gate.committed)
    assert job["status"] == "canceled"
    assert "file_key" not in job["result"]


def test_cancels_racing_real_exports_end_canceled_without_a_file_or_completed(
    client: TestClient[Any],
    runtime: Runtime,
    admin: Caller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = CommitGate(None)  # records the committed keys, holds nothing
    gate.install(monkeypatch)
    for n in range(3):
        product(client, admin, title=f"Shirt {n}")
    rng = random.Random(11)  # noqa: S311 - timings, not secrets
    outcomes = []
    for _ in range(12):
        job_id = export(client, admin)
        time.sleep(rng.uniform(0, 0.15))
        canceled = post(client, admin, f"/admin/batch-jobs/{job_id}/cancel", {})
        if canceled.status_code == 200:
            job = settled_cancel(client, runtime, admin, job_id, gate.committed)
            assert "file_key" not in (job["result"] or {}), job
            assert "file_size" not in (job["result"] or {}), job
            assert not any(
                runtime.files.exists(key) for key in gate.committed if job_id in key
            )
            outcomes.append("canceled")
        else:
            assert canceled.status_code == 400, canceled.text
            assert canceled.json() == {
                "type": "not_allowed",
                "message": "Cannot cancel completed batch job",
            }
            job = wait_for_status(client, admin, job_id, ["completed"])
            assert runtime.files.exists(job["result"]["file_key"])
            outcomes.append("completed")
    assert outcomes  # each race ended one way or the other, checked above
