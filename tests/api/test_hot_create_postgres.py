"""On PostgreSQL the create lane keeps to the database-cut guard, as the router does.

While the gate says the database is down the lane declines, and the guard behind
the front door answers 503; a create the lane took before the cut is answered 503
once the gate knows, and what its save answers later is dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from service.db_gate import RECHECK_SECONDS
from service.http.database_cut import MESSAGE
from service.runtime import Runtime
from tests.api.test_hot_create import ComputedPrepare
from tests.support import Caller, ScriptedStrategy

pytestmark = [
    pytest.mark.integration,
    pytest.mark.parametrize("settings", ["postgres"], indirect=True),
]
UNAVAILABLE = {"type": "unexpected_state", "message": MESSAGE}
BODY = {"type": "product-export", "context": {}, "dry_run": True}


@pytest.fixture
def strategy() -> ScriptedStrategy:
    return ComputedPrepare()  # a prepare without I/O: the lane's kind


def jobs_listed(client: TestClient[Any], admin: Caller) -> int:
    listed = client.get("/admin/batch-jobs", headers=admin.headers)
    assert listed.status_code == 200
    return int(listed.json()["count"])


def test_the_lane_answers_a_plain_create_on_postgres(
    client: TestClient[Any], admin: Caller, lane_answers: list[bool]
) -> None:
    client.get("/admin/auth", headers=admin.headers)  # the caller, now in memory
    lane_answers.clear()

    created = client.post("/admin/batch-jobs", headers=admin.headers, json=BODY)

    assert created.status_code == 201, created.text
    assert lane_answers == [True]
    job_id = created.json()["batch_job"]["id"]
    read = client.get(f"/admin/batch-jobs/{job_id}", headers=admin.headers)
    assert read.status_code == 200
    assert read.json()["batch_job"]["id"] == job_id


def test_while_the_database_is_down_the_lane_declines_and_the_guard_answers(
    client: TestClient[Any],
    admin: Caller,
    lane_answers: list[bool],
    gate_says: Callable[[Callable[[], str | None]], None],
) -> None:
    client.get("/admin/auth", headers=admin.headers)
    before = jobs_listed(client, admin)
    gate_says(lambda: "down: a test")
    lane_answers.clear()

    refused = client.post("/admin/batch-jobs", headers=admin.headers, json=BODY)

    assert refused.status_code == 503
    assert refused.json() == UNAVAILABLE
    assert refused.headers["retry-after"] == "1"
    assert lane_answers == [False]
    gate_says(lambda: None)
    assert jobs_listed(client, admin) == before  # nothing was stored


def test_a_create_in_flight_at_the_cut_is_answered_503(  # noqa: PLR0917
    client: TestClient[Any],
    runtime: Runtime,
    admin: Caller,
    lane_answers: list[bool],
    gate_says: Callable[[Callable[[], str | None]], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client.get("/admin/auth", headers=admin.headers)
    save = runtime.app.create_batch_job_async
    saved: list[str] = []

    async def cut_while_saving(*args: Any, **kwargs: Any) -> Any:
        gate_says(lambda: "down: cut while saving")
        await asyncio.sleep(RECHECK_SECONDS * 4)  # the save hangs past the watch
        job, position = await save(*args, **kwargs)
        saved.append(job.id)
        return job, position

    monkeypatch.setattr(runtime.app, "create_batch_job_async", cut_while_saving)
    lane_answers.clear()

    answered = client.post("/admin/batch-jobs", headers=admin.headers, json=BODY)

    assert answered.status_code == 503
    assert answered.json() == UNAVAILABLE
    assert lane_answers == [True]  # the lane took it; the guard answered for it
    assert len(saved) == 1  # the late save landed, as the guard's docstring says
