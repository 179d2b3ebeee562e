"""Reads across processes: an API without projections learns positions by NOTIFY.

`jobstream projections` keeps the read models in a process of its own; the API
process (project=False) waits for their positions before each read and after each
write. Those positions reach it by NOTIFY, not by polling: with the fallback poll set
to several seconds, a read of one read model right after a write to the other still
answers well within one second.
"""

from __future__ import annotations

import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from service.http.app import create_app
from service.read_models.remote_positions import NotifiedRemotePositions
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.registry import StrategyRegistry
from tests.conftest import create_database, drop_database, make_settings
from tests.integration.processes import start_role, wait_for_log
from tests.support import Caller, ScriptedStrategy, new_user

pytestmark = pytest.mark.integration

FALLBACK_POLL_SECONDS = 8.0  # far above any answer the test accepts
WELL_UNDER = 1.0  # a read answers within this, or it waited for a poll


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    name = f"jobstream_xproc_{uuid.uuid4().hex[:8]}"
    url = create_database(name)
    try:
        yield msgspec.structs.replace(
            make_settings(tmp_path, url),
            read_model_poll_seconds=FALLBACK_POLL_SECONDS,
        )
    finally:
        drop_database(name)


@pytest.fixture
def projections(settings: Settings, tmp_path: Path) -> Iterator[Path]:
    """`jobstream projections` as a process of its own; its log."""
    log = tmp_path / "projections.log"
    process = start_role(settings, "projections", log)
    try:
        wait_for_log(log, "runtime.started")
        yield log
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def timed(request: Any) -> tuple[float, Any]:
    started = time.monotonic()
    response = request()
    return time.monotonic() - started, response


def test_a_read_of_one_model_right_after_a_write_to_the_other_is_fast(
    settings: Settings, projections: Path
) -> None:
    api = Runtime(
        settings,
        registry=StrategyRegistry([ScriptedStrategy()]),
        process_jobs=False,
        project=False,
    )
    remote = api.read_models.remote
    assert isinstance(remote, NotifiedRemotePositions)
    reads: list[float] = []
    with TestClient(app=create_app(api)) as client:
        admin = new_user(api)
        deadline = time.monotonic() + 10
        while not remote.listening:  # LISTEN in place before the first write
            assert time.monotonic() < deadline
            time.sleep(0.01)
        for round_ in range(5):
            reads += write_jobs_then_read_products(client, admin)
            reads += write_collection_then_read_jobs(client, admin, round_)

    assert len(reads) == 10
    assert max(reads) < WELL_UNDER, reads


def write_jobs_then_read_products(
    client: TestClient[Any], admin: Caller
) -> list[float]:
    created = client.post(
        "/admin/batch-jobs",
        json={"type": "product-export", "context": {}, "dry_run": True},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    seconds, products = timed(
        lambda: client.get("/admin/products", headers=admin.headers)
    )
    assert products.status_code == 200, products.text
    return [seconds]


def write_collection_then_read_jobs(
    client: TestClient[Any], admin: Caller, round_: int
) -> list[float]:
    created = client.post(
        "/admin/collections",
        json={"title": f"Summer {round_}", "handle": f"summer-{round_}"},
        headers=admin.headers,
    )
    assert created.status_code == 200, created.text
    collection_id = created.json()["collection"]["id"]
    seconds, jobs = timed(
        lambda: client.get("/admin/batch-jobs", headers=admin.headers)
    )
    assert jobs.status_code == 200, jobs.text
    assert jobs.json()["count"] == round_ + 1  # every job written so far
    listed = client.get("/admin/collections", headers=admin.headers).json()
    assert collection_id in {c["id"] for c in listed["collections"]}
    return [seconds]
