"""Events with U+0000 saved straight to the store still project (as U+FFFD) everywhere.

The API refuses NUL at its edges; these events bypass HTTP, as an import, a CLI or an
older version of the service might have saved them.
"""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from domain.batch_jobs import BatchJob
from service.audit import verify
from service.audit.models import Models
from service.runtime import Runtime
from tests.api.catalog import conftest as catalog_fixtures
from tests.support import Caller, wait_for_status

# Each PostgreSQL run gets a database of its own (the catalog is global).
settings = catalog_fixtures.settings


def test_a_job_whose_context_holds_nul_projects_with_the_replacement_character(
    runtime: Runtime, client: TestClient[Any], admin: Caller
) -> None:
    job = BatchJob.create(
        batch_type="product-export",
        created_by=admin.user.id,
        context={"a": "x\x00y", "k\x00": ["\x00", {"deep\x00": "\x00"}]},
        dry_run=True,
        actor=admin.user.id,
    )
    job.update("test", result={"note": "r\x00"})
    runtime.settle(runtime.app.save(job)[-1].notification.id)

    fetched = client.get(f"/admin/batch-jobs/{job.id}", headers=admin.headers)
    listed = client.get("/admin/batch-jobs", headers=admin.headers)

    assert fetched.status_code == 200, fetched.text
    expected = {"a": "x\ufffdy", "k\ufffd": ["\ufffd", {"deep\ufffd": "\ufffd"}]}
    assert fetched.json()["batch_job"]["context"] == expected
    assert fetched.json()["batch_job"]["result"]["note"] == "r\ufffd"
    assert listed.status_code == 200, listed.text
    assert [j["context"] for j in listed.json()["batch_jobs"]] == [expected]
    # A later event of the job folds into the stored (scrubbed) row.
    wait_for_status(client, admin, job.id, {"pre_processed"})  # the processor is done
    runtime.settle(_update(runtime, job.id, {"more": "m\x00"}))
    again = client.get(f"/admin/batch-jobs/{job.id}", headers=admin.headers)
    result = again.json()["batch_job"]["result"]
    assert (result["note"], result["more"]) == ("r\ufffd", "m\ufffd")
    assert again.json()["batch_job"]["context"] == expected
    assert client.get("/health").status_code == 200
    assert [r.differences for r in verify.verify(Models.of(runtime))] == [[], []]


def test_a_product_whose_fields_hold_nul_projects_with_the_replacement_character(
    runtime: Runtime, client: TestClient[Any], admin: Caller
) -> None:
    changes = runtime.catalog.changes("test")
    created = runtime.catalog.create_product(
        changes,
        {
            "title": "Shirt\x00X",
            "handle": "nul-shirt",  # handles and SKUs key index aggregates: no NUL
            "description": "d\x00",
            "tags": [{"value": "t\x00"}],
            "options": [{"title": "Size\x00"}],
            "variants": [
                {"title": "S\x00", "sku": "SKU-1", "prices": [],
                 "options": [{"value": "S\x00"}]},
            ],
            "metadata": {"k\x00": "v\x00"},
        },
    )  # fmt: skip
    runtime.catalog_reads.settle(changes.save())

    fetched = client.get(f"/admin/products/{created.id}", headers=admin.headers)
    found = client.get("/admin/products?q=shirt", headers=admin.headers)

    assert fetched.status_code == 200, fetched.text
    product = fetched.json()["product"]
    assert product["title"] == "Shirt\ufffdX"
    assert product["description"] == "d\ufffd"
    assert product["metadata"] == {"k\ufffd": "v\ufffd"}
    assert [t["value"] for t in product["tags"]] == ["t\ufffd"]
    assert product["variants"][0]["title"] == "S\ufffd"
    assert product["options"][0]["values"][0]["value"] == "S\ufffd"
    assert found.status_code == 200, found.text
    assert [p["id"] for p in found.json()["products"]] == [created.id]
    variant = runtime.catalog_reads.view.find_variant(sku="SKU-1")
    assert variant == (created.id, product["variants"][0]["id"])
    assert client.get("/health").status_code == 200
    assert [r.differences for r in verify.verify(Models.of(runtime))] == [[], []]


def _update(runtime: Runtime, job_id: str, result: dict[str, Any]) -> int:
    job = runtime.app.get_batch_job(job_id)
    job.update("test", result=result)
    return runtime.app.save(job)[-1].notification.id
