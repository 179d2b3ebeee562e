"""Histories over HTTP: every event of a job or product, who caused it, in order."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from service.audit import history
from service.http.catalog.product_bodies import validate_update
from service.runtime import Runtime
from tests.api.catalog import conftest as catalog_fixtures
from tests.api.catalog.support import product
from tests.support import Caller, wait_for_status

# The catalog is global: each PostgreSQL run gets a database of its own.
settings = catalog_fixtures.settings


def job_through_its_lifecycle(
    client: TestClient[Any], caller: Caller
) -> dict[str, Any]:
    created = client.post(
        "/admin/batch-jobs",
        json={"type": "product-export", "context": {"pages": 2}, "dry_run": True},
        headers=caller.headers,
    ).json()["batch_job"]
    wait_for_status(client, caller, created["id"], ["pre_processed"])
    confirmed = client.post(
        f"/admin/batch-jobs/{created['id']}/confirm", headers=caller.headers
    )
    assert confirmed.status_code == 200, confirmed.text
    return wait_for_status(client, caller, created["id"])


def test_a_jobs_events_are_listed_in_order_with_actor_and_payload(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    job = job_through_its_lifecycle(client, admin)

    response = client.get(
        f"/admin/batch-jobs/{job['id']}/events", headers=admin.headers
    )

    assert response.status_code == 200, response.text
    events = response.json()["events"]
    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    names = [e["name"] for e in events]
    assert names[0] == "batch.created"
    assert names[-1] == "batch.completed"
    for step in ("batch.pre_processed", "batch.confirmed", "batch.processing"):
        assert step in names
    assert events[0]["actor"] == admin.user.id
    assert events[0]["payload"]["context"] == {"pages": 2, "prepared": True}
    confirmed = events[names.index("batch.confirmed")]
    assert confirmed["actor"] == admin.user.id
    assert all(e["occurred_at"].endswith("Z") for e in events)
    assert job["status"] == "completed"


def test_state_at_each_version_walks_the_jobs_statuses(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    job = job_through_its_lifecycle(client, admin)
    timeline = history.history(runtime.app, job["id"])

    statuses = [
        history.state_at(runtime.app, job["id"], version=e.version)["status"]
        for e in timeline
    ]
    at_the_confirm = history.state_at(
        runtime.app,
        job["id"],
        at=next(e.occurred_at for e in timeline if e.name == "batch.confirmed"),
    )

    assert statuses[0] == "created"
    ordered = [s for i, s in enumerate(statuses) if s not in statuses[:i]]
    assert ordered == [
        "created",
        "pre_processed",
        "confirmed",
        "processing",
        "completed",
    ]
    assert at_the_confirm["status"] == "confirmed"
    assert history.state_at(runtime.app, job["id"]) == job  # the API's JSON shape


def test_another_users_job_history_is_refused_and_unknown_is_404(
    client: TestClient[Any], admin: Caller, member: Caller
) -> None:
    job = job_through_its_lifecycle(client, admin)

    other = client.get(f"/admin/batch-jobs/{job['id']}/events", headers=member.headers)
    unknown = client.get("/admin/batch-jobs/batch_nope/events", headers=admin.headers)
    anonymous = client.get(f"/admin/batch-jobs/{job['id']}/events")

    assert other.status_code == 400
    assert other.json()["type"] == "not_allowed"
    assert unknown.status_code == 404
    assert anonymous.status_code == 401


def test_a_products_events_name_the_batch_job_that_changed_it(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    created = product(client, admin)
    changes = runtime.catalog.changes("batch:batch_01IMPORT")
    runtime.catalog.update_product(
        changes, created["id"], validate_update({"title": "Imported title"})
    )
    runtime.catalog_reads.settle(changes.save())

    response = client.get(
        f"/admin/products/{created['id']}/events", headers=admin.headers
    )
    missing = client.get("/admin/products/prod_nope/events", headers=admin.headers)

    assert response.status_code == 200, response.text
    events = response.json()["events"]
    assert [(e["name"], e["actor"], e["batch_job_id"]) for e in events] == [
        ("product.created", admin.user.id, None),
        ("product.updated", "batch:batch_01IMPORT", "batch_01IMPORT"),
    ]
    assert events[1]["payload"]["changes"]["title"] == "Imported title"
    assert missing.status_code == 404
    view = runtime.catalog_reads.view
    first = history.state_at(runtime.app, created["id"], version=1, catalog=view)
    now = history.state_at(runtime.app, created["id"], catalog=view)
    assert first == created
    assert now["title"] == "Imported title"
    current = client.get(f"/admin/products/{created['id']}", headers=admin.headers)
    assert now == current.json()["product"]


def test_the_history_endpoints_are_in_the_openapi_document(
    client: TestClient[Any],
) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]

    assert "get" in paths["/admin/batch-jobs/{job_id}/events"]
    assert "get" in paths["/admin/products/{product_id}/events"]
