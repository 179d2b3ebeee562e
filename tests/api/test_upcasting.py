"""Schema evolution: an event stored in an older class version reads as today's shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from litestar.testing import TestClient

from domain.batch_jobs import BatchJob
from service.audit import history, verify
from service.audit.models import Models
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.registry import StrategyRegistry
from tests.support import Caller, ScriptedStrategy, seed_job

FIXTURE = Path(__file__).parent.parent / "fixtures" / "batch_updated_v1.json"


@pytest.fixture
def runtime(settings: Settings, strategy: ScriptedStrategy) -> Runtime:
    """No job processing: nothing but the test writes to the job."""
    return Runtime(settings, registry=StrategyRegistry([strategy]), process_jobs=False)


def store_old_update(runtime: Runtime, job_id: str) -> int:
    fixture = json.loads(FIXTURE.read_text())
    stored = StoredEvent(
        originator_id=job_id,
        originator_version=2,
        topic=fixture["topic"],
        state=json.dumps(fixture["state"]).encode(),
    )
    positions = runtime.app.recorder.insert_events([stored])
    assert positions is not None
    return positions[-1]


def test_a_version_1_update_is_upcast_for_the_aggregate_history_and_read_model(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    job_id = seed_job(runtime, admin.user.id, batch_type="product-export")
    runtime.settle(store_old_update(runtime, job_id))

    job = runtime.app.get_batch_job(job_id)
    events = history.history(runtime.app, job_id)
    fetched = client.get(f"/admin/batch-jobs/{job_id}", headers=admin.headers)

    assert BatchJob.Updated.class_version == 2
    assert job.result == {"count": 3, "advancement_count": 1}
    assert events[1].name == "batch.updated"
    assert events[1].payload == {
        "result": {"count": 3, "advancement_count": 1}, "context": None,
        "unset_result": [], "unset_context": [],
    }  # fmt: skip
    assert events[1].actor == "worker:old-host:42"
    assert fetched.json()["batch_job"]["result"] == job.result
    assert [r.differences for r in verify.verify(Models.of(runtime))] == [[], []]


def test_new_events_are_stored_with_their_class_version(runtime: Runtime) -> None:
    job = BatchJob.create(
        batch_type="never-run", created_by="u", context={}, dry_run=True, actor="u"
    )
    job.update("worker:x", result={"count": 1})
    runtime.app.save(job)

    created, updated = runtime.app.recorder.select_events(job.id)

    assert json.loads(created.state)["class_version"] == 2
    assert json.loads(updated.state)["class_version"] == 2
