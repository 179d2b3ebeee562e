"""One event a read model cannot apply is parked: nothing else waits, stops or fails.

The poison events here are stored straight to the event store, as a corrupt or
incompatible event would be (an older version's payload, a hand edit): a batch-job
event without its fields (its `apply` fails) and a catalog event whose payload is not
JSON (it cannot even be decoded).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from litestar.testing import TestClient

from domain.batch_jobs import BatchJob
from domain.catalog.products import Product
from projections import runner as runner_module
from projections.batch_jobs import row as batch_job_rows
from projections.batch_jobs import view as batch_jobs_view
from service.audit import verify
from service.audit.models import Models
from service.http.app import create_app
from service.runtime import Runtime
from service.strategies.registry import StrategyRegistry
from tests.api.catalog import conftest as catalog_fixtures
from tests.api.catalog.support import product
from tests.api.test_cli import jobstream
from tests.support import Caller, ScriptedStrategy, seed_job

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from projections.parking import ParkedEvent
    from service.settings import Settings

# Each PostgreSQL run gets a database of its own (parked events are per database).
settings = catalog_fixtures.settings
QUICK = 1.0  # seconds: a read must never wait for a parked event


def plant(runtime: Runtime, originator_id: str, version: int, topic: str,
          state: bytes) -> int:  # fmt: skip
    """Store an event as it is, past every check of the application; its position."""
    positions = runtime.app.recorder.insert_events(
        [StoredEvent(originator_id, version, topic, state)]
    )
    assert positions
    runtime.app.notify_saved([topic])
    return positions[-1]


def parked_events(view: object) -> list[ParkedEvent]:
    return view.parked_events()  # type: ignore[attr-defined, no-any-return]


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def timed_get(client: TestClient[Any], path: str, caller: Caller) -> Any:
    started = time.monotonic()
    response = client.get(path, headers=caller.headers)
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert elapsed < QUICK, f"GET {path} took {elapsed:.2f} s"
    return response.json()


def test_poison_events_are_parked_and_every_read_model_goes_on(  # noqa: PLR0915, PLR0917
    settings: Settings,
    runtime: Runtime,
    client: TestClient[Any],
    admin: Caller,
    member: Caller,
    strategy: ScriptedStrategy,
) -> None:
    job_id = seed_job(runtime, admin.user.id, completed=True)
    shirt = product(client, admin, "Shirt")
    bad_job = plant(runtime, job_id, 6, get_topic(BatchJob.ProcessingStarted), b"{}")
    bad_product = plant(runtime, shirt["id"], 2, get_topic(Product.Deleted), b"\xff")

    # Other users write and read at once, on both read models.
    created = client.post(
        "/admin/batch-jobs",
        json={"type": "product-export", "context": {}, "dry_run": True},
        headers=member.headers,
    )
    assert created.status_code == 201, created.text
    listed = timed_get(client, "/admin/batch-jobs", member)
    assert [j["id"] for j in listed["batch_jobs"]] == [
        created.json()["batch_job"]["id"]
    ]
    assert (
        timed_get(client, f"/admin/batch-jobs/{job_id}", admin)["batch_job"]["status"]
        == "completed"
    )  # as it was before the event it could not apply
    hat = product(client, member, "Hat")
    products = timed_get(client, "/admin/products", member)["products"]
    assert {p["id"] for p in products} == {shirt["id"], hat["id"]}  # shirt not deleted

    jobs_parked = parked_events(runtime.view)
    catalog_parked = parked_events(runtime.catalog_reads.view)
    assert [(e.position, e.originator_id, e.originator_version, e.topic) for e in
            jobs_parked] == [
        (bad_job, job_id, 6, get_topic(BatchJob.ProcessingStarted))
    ]  # fmt: skip
    assert jobs_parked[0].read_model == "batchjobs"
    assert jobs_parked[0].attempts == runner_module.POISON_ATTEMPTS
    assert jobs_parked[0].error.startswith("AttributeError")
    assert [(e.position, e.originator_id, e.topic) for e in catalog_parked] == [
        (bad_product, shirt["id"], get_topic(Product.Deleted))
    ]
    assert "MapperDeserialisationError" in catalog_parked[0].error
    # `verify` skips what the read model skipped: it finds no difference.
    assert verify.verify_batch_jobs(Models.of(runtime)).differences == []

    # Health stays up; the details name each parked event, never its error text.
    assert client.get("/health").status_code == 200
    details = client.get("/health/details")
    assert details.status_code == 200, details.text
    report = details.json()
    assert report["checks"]["projection.batchjobs"] == "ok"
    assert report["checks"]["projection.catalog"] == "ok"
    assert report["stuck"] == {}
    assert report["parked"]["batchjobs"]["count"] == 1
    assert report["parked"]["batchjobs"]["events"][0]["position"] == bad_job
    assert report["parked"]["batchjobs"]["events"][0]["originator_id"] == job_id
    assert report["parked"]["catalog"]["events"][0]["topic"] == get_topic(
        Product.Deleted
    )
    assert "Error" not in details.text

    # The operator's command prints each with its error.
    as_json = jobstream(settings, "projections", "parked", "--json")
    as_text = jobstream(settings, "projections", "parked", "batchjobs")
    assert as_json.returncode == 0, as_json.stderr
    lines = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [(e["read_model"], e["position"]) for e in lines] == [
        ("batchjobs", bad_job), ("catalog", bad_product),
    ]  # fmt: skip
    assert lines[0]["error"].startswith("AttributeError")
    assert as_text.returncode == 0, as_text.stderr
    [line] = as_text.stdout.splitlines()
    assert line.startswith(f"batchjobs position {bad_job} {job_id} v6 ")
    assert "AttributeError" in line

    # After a restart nothing fails again, waits, or parks twice.
    client.__exit__(None, None, None)
    again = Runtime(settings, registry=StrategyRegistry([strategy]))
    with TestClient(app=create_app(again)) as second:
        assert timed_get(second, "/admin/batch-jobs", member)["count"] == 1
        assert len(timed_get(second, "/admin/products", member)["products"]) == 2
        later = product(second, admin, "Later")
        assert timed_get(second, f"/admin/products/{later['id']}", admin)
        assert second.get("/health").status_code == 200
        assert again.projection.failing is None
        assert again.catalog_reads.runner.failing is None
        assert len(parked_events(again.view)) == 1
        assert len(parked_events(again.catalog_reads.view)) == 1


def test_a_rebuild_applies_and_clears_the_parked_events_once_the_cause_is_fixed(
    settings: Settings,
    runtime: Runtime,
    client: TestClient[Any],
    admin: Caller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = seed_job(runtime, admin.user.id, completed=True)
    target = f"batch_{'0' * 20}target"
    fold = batch_job_rows.fold

    def failing_fold(rows: dict[str, Any], events: Sequence[BatchJob.Event]) -> Any:
        if any(isinstance(e, BatchJob.Created) and e.originator_id == target
               for e in events):  # fmt: skip
            raise ValueError("a bug in the projection")
        return fold(rows, events)

    monkeypatch.setattr(batch_jobs_view, "fold", failing_fold)
    seed_job(runtime, admin.user.id, target, completed=True, settle=False)
    last = seed_job(runtime, admin.user.id)  # after the failing one: still projected

    listed = timed_get(client, "/admin/batch-jobs", admin)
    assert {j["id"] for j in listed["batch_jobs"]} == {first, last}
    [parked] = parked_events(runtime.view)
    assert (parked.originator_id, parked.error) == (
        target, "ValueError: a bug in the projection",
    )  # fmt: skip

    monkeypatch.undo()  # the fix is deployed
    rebuilt = jobstream(settings, "projections", "rebuild", "batchjobs")

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert parked_events(runtime.view) == []
    listed = timed_get(client, "/admin/batch-jobs", admin)
    assert {j["id"] for j in listed["batch_jobs"]} == {first, target, last}
    shown = jobstream(settings, "projections", "parked")
    assert shown.stdout == "no parked events\n"


def test_a_database_failure_is_retried_never_parked(
    runtime: Runtime,
    client: TestClient[Any],
    admin: Caller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    apply_events = runtime.view.apply_events
    calls = 0

    def disk_full(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls <= runner_module.POISON_ATTEMPTS + 1:
            raise OSError("disk full")
        apply_events(*args, **kwargs)

    monkeypatch.setattr(runtime.view, "apply_events", disk_full)
    job_id = seed_job(runtime, admin.user.id, settle=False)

    eventually(lambda: calls > runner_module.POISON_ATTEMPTS + 1)
    job = timed_get(client, f"/admin/batch-jobs/{job_id}", admin)["batch_job"]
    assert job["id"] == job_id
    assert parked_events(runtime.view) == []


def test_an_event_that_cannot_be_parked_either_holds_no_reader(
    runtime: Runtime,
    client: TestClient[Any],
    admin: Caller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed_job(runtime, admin.user.id)
    fold = batch_job_rows.fold

    def failing_fold(rows: dict[str, Any], events: Sequence[BatchJob.Event]) -> Any:
        if any(isinstance(e, BatchJob.Created) and e.originator_id == "batch_poison"
               for e in events):  # fmt: skip
            raise ValueError("a bug in the projection")
        return fold(rows, events)

    def broken_park(*_: object) -> None:
        raise ValueError("cannot park")

    monkeypatch.setattr(batch_jobs_view, "fold", failing_fold)
    monkeypatch.setattr(runtime.view, "park", broken_park)
    position = runtime.app.save(
        BatchJob.create(
            batch_type="product-export", created_by=admin.user.id, context={},
            dry_run=True, actor=admin.user.id, job_id="batch_poison",
        )
    )[-1].notification.id  # fmt: skip
    eventually(lambda: runtime.projection.stuck is not None)

    assert timed_get(client, "/admin/batch-jobs", admin)["count"] == 1
    unhealthy = client.get("/health")
    assert unhealthy.status_code == 503
    assert unhealthy.json()["checks"]["projection.batchjobs"] == "stuck"
    details = client.get("/health/details")
    stuck = details.json()["stuck"]
    assert stuck["batchjobs"]["position"] == position
    for text in (unhealthy.text, details.text):  # the errors go to the log only
        assert "a bug in the projection" not in text
        assert "cannot park" not in text
    assert stuck["batchjobs"]["originator_id"] == "batch_poison"

    monkeypatch.delattr(runtime.view, "park")  # parking works again
    eventually(lambda: client.get("/health").status_code == 200)
    assert runtime.projection.failing is None
    assert [e.position for e in parked_events(runtime.view)] == [position]


def test_a_read_model_projected_anew_parks_the_same_event_again_and_goes_on(
    settings: Settings,
    runtime: Runtime,
    client: TestClient[Any],
    admin: Caller,
    strategy: ScriptedStrategy,
) -> None:
    job_id = seed_job(runtime, admin.user.id, completed=True)
    bad = plant(runtime, job_id, 6, get_topic(BatchJob.ProcessingStarted), b"{}")
    eventually(lambda: len(parked_events(runtime.view)) == 1)
    client.__exit__(None, None, None)
    models = Models.open(settings)
    try:  # as if its tables had been dropped: it starts again from the first event
        with models.jobs.transaction(commit=True) as curs:
            curs.execute(f"DELETE FROM {models.jobs.tracking_table}")  # noqa: S608
    finally:
        models.close()

    again = Runtime(settings, registry=StrategyRegistry([strategy]))
    with TestClient(app=create_app(again)) as second:
        later = seed_job(again, admin.user.id)
        listed = timed_get(second, "/admin/batch-jobs", admin)
        assert {j["id"] for j in listed["batch_jobs"]} == {job_id, later}
        assert [e.position for e in parked_events(again.view)] == [bad]
        assert again.projection.failing is None


def test_a_rebuild_gets_past_the_events_that_still_fail_and_keeps_them_parked(
    settings: Settings,
    runtime: Runtime,
    client: TestClient[Any],
    admin: Caller,
) -> None:
    job_id = seed_job(runtime, admin.user.id, completed=True)
    shirt = product(client, admin, "Shirt")
    bad_job = plant(runtime, job_id, 6, get_topic(BatchJob.ProcessingStarted), b"{}")
    bad_product = plant(runtime, shirt["id"], 2, get_topic(Product.Deleted), b"\xff")
    later = seed_job(runtime, admin.user.id)
    hat = product(client, admin, "Hat")
    eventually(lambda: len(parked_events(runtime.catalog_reads.view)) == 1)
    eventually(lambda: len(parked_events(runtime.view)) == 1)

    rebuilt = jobstream(settings, "projections", "rebuild")

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "projection.event_parked" in rebuilt.stdout + rebuilt.stderr
    assert [e.position for e in parked_events(runtime.view)] == [bad_job]
    assert [e.position for e in parked_events(runtime.catalog_reads.view)] == [
        bad_product
    ]
    listed = timed_get(client, "/admin/batch-jobs", admin)
    assert {j["id"] for j in listed["batch_jobs"]} == {job_id, later}
    products = timed_get(client, "/admin/products", admin)["products"]
    assert {p["id"] for p in products} == {shirt["id"], hat["id"]}
    assert verify.verify_batch_jobs(Models.of(runtime)).differences == []
