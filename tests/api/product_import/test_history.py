"""A product's history after an export and an edited re-import (issue 6 with 4 and 5)."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from service.audit import history
from service.runtime import Runtime
from tests.api.catalog.support import created, post
from tests.api.product_import.support import run_import
from tests.support import Caller, wait_for_status


def test_a_product_exported_and_reimported_names_the_import_in_its_history(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    original = created(client, admin, "/admin/products", {
        "title": "Test product", "handle": "test-product",
        "variants": [{"title": "One", "sku": "sku-1",
                      "prices": [{"currency_code": "usd", "amount": 1000}]}],
    }, "product")  # fmt: skip
    export = post(client, admin, "/admin/batch-jobs", {"type": "product-export",
                                                        "context": {}})  # fmt: skip
    exported = wait_for_status(
        client, admin, export.json()["batch_job"]["id"], timeout=30
    )
    with runtime.files.open_reader(exported["result"]["file_key"]) as reader:
        header, line = b"".join(reader.chunks()).decode().split("\r\n")[:2]
    cells = line.split(";")
    cells[2] = "Updated test product"

    job = run_import(client, admin, "\r\n".join([header, ";".join(cells)]))

    events = client.get(
        f"/admin/products/{original['id']}/events", headers=admin.headers
    ).json()["events"]
    assert [(e["name"], e["actor"], e["batch_job_id"]) for e in events] == [
        ("product.created", admin.user.id, None),
        ("product.updated", f"batch:{job['id']}", job["id"]),
    ]  # the export changed nothing: no event of its own
    view = runtime.catalog_reads.view
    before = history.state_at(runtime.app, original["id"], version=1, catalog=view)
    now = history.state_at(runtime.app, original["id"], catalog=view)
    assert before["title"] == "Test product"
    assert now["title"] == "Updated test product"
    current = client.get(f"/admin/products/{original['id']}", headers=admin.headers)
    assert now == current.json()["product"]
