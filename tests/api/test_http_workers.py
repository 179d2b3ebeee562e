"""Several processes serve one embedded deployment: a write answered by one is read by any.

`jobstream serve` projects and runs jobs; `jobstream api` beside it on the same data
directory answers HTTP only, like the extra processes `serve --workers N` forks. The
API process learns the projection's position from the shared positions file and wakes
the projecting process when it stores events, so a write on one port is in the next
read on the other, both ways.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import make_settings
from tests.integration.conftest import free_port
from tests.integration.processes import environment

TOKEN = "workers-token"
HEADERS = {"x-medusa-access-token": TOKEN}
EXPORT = {"type": "product-export", "context": {}}


def _start(
    directory: Path, role: str, port: int, workers: int
) -> subprocess.Popen[bytes]:
    env = {
        **environment(make_settings(directory)),
        "JOBSTREAM_PORT": str(port),
        "JOBSTREAM_HTTP_WORKERS": str(workers),
    }
    with (directory / f"{role}-{port}.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "service", role],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _create_user(directory: Path) -> None:
    env = environment(make_settings(directory))
    subprocess.run(
        [sys.executable, "-m", "service", "user", "create", "--email",
         "w@example.com", "--password", "supersecret", "--api-token", TOKEN],
        env=env, check=True, capture_output=True,
    )  # fmt: skip


def _wait_healthy(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the server did not become healthy")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def ports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The projecting `serve` and an `api` process beside it: their base URLs."""
    directory = tmp_path_factory.mktemp("workers")
    _create_user(directory)
    primary_port, api_port = free_port(), free_port()
    primary = _start(directory, "serve", primary_port, workers=1)
    try:
        _wait_healthy(primary_port, primary)
        api = _start(directory, "api", api_port, workers=1)
        try:
            _wait_healthy(api_port, api)
            yield f"http://127.0.0.1:{primary_port}", f"http://127.0.0.1:{api_port}"
        finally:
            _stop(api)
    finally:
        _stop(primary)


def _fresh(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request on a connection of its own (so each may reach another process)."""
    return httpx.request(method, url, headers=HEADERS, timeout=30, **kwargs)


def test_a_write_on_one_process_is_in_the_next_read_on_the_other(
    ports: tuple[str, str],
) -> None:
    for writer, reader in (ports, ports[::-1]) * 10:
        created = _fresh(
            "POST", f"{writer}/admin/batch-jobs", json={**EXPORT, "dry_run": True}
        )
        assert created.status_code == 201
        job = created.json()["batch_job"]
        read = _fresh("GET", f"{reader}/admin/batch-jobs/{job['id']}")
        assert read.status_code == 200
        assert read.json()["batch_job"]["id"] == job["id"]
        listed = _fresh("GET", f"{reader}/admin/batch-jobs?limit=1")
        assert listed.json()["batch_jobs"][0]["id"] == job["id"]
        canceled = _fresh("POST", f"{reader}/admin/batch-jobs/{job['id']}/cancel")
        assert canceled.status_code == 200
        again = _fresh("GET", f"{writer}/admin/batch-jobs/{job['id']}")
        assert again.json()["batch_job"]["status"] == "canceled"


def test_a_job_created_on_the_api_process_is_run_by_the_projecting_one(
    ports: tuple[str, str],
) -> None:
    primary, api = ports
    created = _fresh("POST", f"{api}/admin/batch-jobs", json=EXPORT)
    job_id = created.json()["batch_job"]["id"]
    deadline = time.monotonic() + 30
    status = ""
    while time.monotonic() < deadline and status != "completed":
        status = _fresh("GET", f"{api}/admin/batch-jobs/{job_id}").json()["batch_job"][
            "status"
        ]
        time.sleep(0.02)
    assert status == "completed"
    shown = _fresh("GET", f"{primary}/admin/batch-jobs/{job_id}").json()["batch_job"]
    assert shown["status"] == "completed"


def _children(pid: int) -> list[int]:
    tasks = Path(f"/proc/{pid}/task")
    found: list[int] = []
    for task in tasks.iterdir():
        children = (task / "children").read_text().split()
        found.extend(int(child) for child in children)
    return found


def test_serve_with_two_workers_serves_from_both_and_stops_both(tmp_path: Path) -> None:
    _create_user(tmp_path)
    port = free_port()
    process = _start(tmp_path, "serve", port, workers=2)
    try:
        _wait_healthy(port, process)
        (worker,) = _children(process.pid)
        base = f"http://127.0.0.1:{port}"
        for _ in range(20):  # fresh connections land on either process
            created = _fresh(
                "POST", f"{base}/admin/batch-jobs", json={**EXPORT, "dry_run": True}
            )
            job_id = created.json()["batch_job"]["id"]
            assert _fresh("GET", f"{base}/admin/batch-jobs/{job_id}").status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        # uvicorn ends a gracefully stopped server by the signal it got, as before.
        assert process.wait(timeout=30) in {0, -signal.SIGTERM}
    with pytest.raises(ProcessLookupError):
        os.kill(worker, 0)


def test_the_workers_end_when_the_primary_is_killed(tmp_path: Path) -> None:
    _create_user(tmp_path)
    port = free_port()
    process = _start(tmp_path, "serve", port, workers=2)
    try:
        _wait_healthy(port, process)
        (worker,) = _children(process.pid)
    finally:
        process.kill()
        process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{worker}/stat").read_text().split(")")[-1].split()[0]
        except FileNotFoundError:
            break  # ended and reaped
        if state == "Z":
            break  # ended; init reaps it
        time.sleep(0.05)
    else:
        os.kill(worker, signal.SIGKILL)
        raise AssertionError("the worker outlived its primary")
