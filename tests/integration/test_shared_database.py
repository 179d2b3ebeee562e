"""Two Jobstream processes on one PostgreSQL database: no job fails, none runs twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from service.http.app import create_app
from service.runtime import Runtime
from service.strategies.registry import StrategyRegistry
from tests.conftest import make_settings
from tests.support import ScriptedStrategy, named, new_user, wait_for_status

pytestmark = pytest.mark.integration


@pytest.fixture
def two_processes(
    postgres_url: str, tmp_path: Path
) -> Iterator[tuple[TestClient[Any], Runtime, Runtime]]:
    first = Runtime(
        make_settings(tmp_path / "a", postgres_url),
        registry=StrategyRegistry([ScriptedStrategy()]),
    )
    second = Runtime(
        make_settings(tmp_path / "b", postgres_url),
        registry=StrategyRegistry([ScriptedStrategy()]),
    )
    second.start()
    try:
        with TestClient(app=create_app(first)) as client:
            yield client, first, second
    finally:
        second.stop()


def test_jobs_complete_once_when_two_processors_share_the_database(
    two_processes: tuple[TestClient[Any], Runtime, Runtime],
) -> None:
    client, first, _ = two_processes
    admin = new_user(first)
    job_ids = [
        client.post(
            "/admin/batch-jobs",
            json={"type": "product-export", "context": {"pages": 2}},
            headers=admin.headers,
        ).json()["batch_job"]["id"]
        for _ in range(10)
    ]

    finals = [wait_for_status(client, admin, job_id) for job_id in job_ids]

    assert [job["status"] for job in finals] == ["completed"] * 10
    for job_id in job_ids:
        names = [
            name for name, _ in named(first.app.repository.event_store.get(job_id))
        ]
        assert names.count("batch.processing") == 1
        assert names.count("batch.completed") == 1
        assert names.count("batch.failed") == 0
        # process_job ran once: one progress update per page, not two per page.
        results = [
            getattr(e, "result", None)
            for e in first.app.repository.event_store.get(job_id)
        ]
        progress = [result for result in results if result and "progress" in result]
        assert len(progress) == 2


def test_a_write_in_one_process_wakes_the_others_read_model(
    two_processes: tuple[TestClient[Any], Runtime, Runtime],
) -> None:
    client, first, second = two_processes
    admin = new_user(first)

    started = time.monotonic()
    job_id = client.post(
        "/admin/batch-jobs",
        json={"type": "product-export", "context": {}, "dry_run": True},
        headers=admin.headers,
    ).json()["batch_job"]["id"]
    position = first.app.recorder.max_notification_id() or 0
    # The second process's runner shares the table; it must see the position promptly
    # (LISTEN/NOTIFY), well before its one-second idle poll would.
    assert second.projection.wait_for(position, timeout=0.5)
    assert time.monotonic() - started < 0.9
    assert second.view.get_batch_job(job_id) is not None
