"""On PostgreSQL a write records its caller's position with its events, and answers.

A write used to wait until the read model had it, so that the caller's next read,
in any process, showed it. Now the caller's slot in the callers' table is raised in
the transaction that stores the events (service.read_models.postgres_callers): the
write answers at once, and the caller's next read waits for that position; other
callers' reads do not wait for it.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
import psycopg
import pytest
from litestar.testing import TestClient

from projections.read_models.known import BATCH_JOBS
from service.read_models.caller_positions import slot_of
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.registry import StrategyRegistry
from tests.support import Caller, new_user

pytestmark = [
    pytest.mark.integration,
    pytest.mark.parametrize("settings", ["postgres"], indirect=True),
]
TIMEOUT = 3.0  # read-your-writes: how long a read waits before a 503
DRY_RUN = {"type": "product-export", "context": {}, "dry_run": True}


@pytest.fixture
def runtime(settings: Settings, strategy: Any) -> Runtime:
    timed = msgspec.structs.replace(settings, read_your_writes_timeout=TIMEOUT)
    return Runtime(timed, registry=StrategyRegistry([strategy]))


def test_a_create_raises_its_callers_slot_in_the_events_transaction(
    settings: Settings, client: TestClient[Any], admin: Caller
) -> None:
    created = client.post("/admin/batch-jobs", json=DRY_RUN, headers=admin.headers)
    job_id = created.json()["batch_job"]["id"]

    assert settings.database_url is not None
    with psycopg.connect(settings.database_url) as conn:
        event = conn.execute(
            "SELECT notification_id, xmin::text FROM jobstream_events "
            "WHERE originator_id::text = %s AND originator_version = 1",
            (job_id,),
        ).fetchone()
        slot = conn.execute(
            "SELECT position, xmin::text FROM jobstream_events_callers WHERE slot = %s",
            (slot_of(admin.user.id),),
        ).fetchone()
    assert created.status_code == 201
    assert event is not None and slot is not None
    assert slot[0] >= event[0]
    assert slot[1] == event[1]  # one transaction wrote both


def test_a_write_answers_without_the_view_and_only_its_callers_reads_wait(
    runtime: Runtime, client: TestClient[Any], admin: Caller
) -> None:
    other = new_user(runtime, "other_user")
    runtime.read_models[BATCH_JOBS.name].runner.stop()  # the view stands still

    started = time.monotonic()
    created = client.post("/admin/batch-jobs", json=DRY_RUN, headers=admin.headers)
    answered_in = time.monotonic() - started
    others_list = client.get("/admin/batch-jobs", headers=other.headers)
    started = time.monotonic()
    own_get = client.get(
        f"/admin/batch-jobs/{created.json()['batch_job']['id']}", headers=admin.headers
    )
    waited = time.monotonic() - started
    own_list = client.get("/admin/batch-jobs", headers=admin.headers)

    assert created.status_code == 201
    assert answered_in < TIMEOUT / 2  # it did not wait for the view
    assert others_list.status_code == 200  # not held up by another caller's write
    assert others_list.json()["count"] == 0
    assert own_get.status_code == 503  # its own write is not in the view yet
    assert waited >= TIMEOUT * 0.9
    assert own_list.status_code == 503  # nor in a list of its own
