"""All or nothing, once: a late error leaves the catalog as it was; a redelivery is a no-op.

And the file formats Medusa chokes on: `;`, a BOM, `\r\n`, a trailing newline,
quoted cells with delimiters and newlines, zero-decimal currencies.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from service.catalog.staged import StagedChanges
from service.runtime import Runtime
from service.strategies.product_import.strategy import ProductImportStrategy, ops_key
from service.strategies.run import ApplicationJobRun
from tests.api.catalog.support import created, post
from tests.api.product_import.support import (
    list_products,
    run_import,
    start_import,
    upload,
)
from tests.support import Caller, wait_for_status

HEADER = "Product Handle,Product Title,Variant Id,Variant Title,Variant SKU,Price USD\n"


def test_an_error_on_the_last_row_leaves_the_catalog_unchanged(
    client: TestClient[Any], admin: Caller
) -> None:
    rows = "".join(f"p{n},Product {n},,V,sku-{n},1\n" for n in range(50))
    csv = HEADER + rows + "p50,Product 50,,V,sku-late,2\n"
    job_id = start_import(client, admin, upload(client, admin, csv), dry_run=True)
    assert (
        wait_for_status(client, admin, job_id, ["pre_processed", "failed"])["status"]
        == "pre_processed"
    )
    # Between the preview and the confirmation the last row's SKU is taken: only
    # processing can find out.
    body = {"title": "Kept", "variants": [{"title": "v", "sku": "sku-late",
                                           "prices": [{"currency_code": "usd",
                                                       "amount": 1}]}]}  # fmt: skip
    created(client, admin, "/admin/products", body, "product")
    before = list_products(client, admin)

    post(client, admin, f"/admin/batch-jobs/{job_id}/confirm", {})
    job = wait_for_status(client, admin, job_id, timeout=30)

    assert job["status"] == "failed"
    assert "duplicate key value" in job["result"]["errors"][0]
    assert list_products(client, admin) == before


def test_a_duplicate_sku_fails_the_whole_import(
    client: TestClient[Any], admin: Caller
) -> None:
    csv = HEADER + "a,A,,V,same,1\nb,B,,V,same,1\n"

    job = run_import(client, admin, csv, status="failed")

    assert "duplicate key value" in job["result"]["errors"][0]
    assert job["result"]["errors"][1].startswith('Line 3, column "Variant SKU"')
    assert list_products(client, admin)["count"] == 0


@pytest.fixture
def strategy(runtime: Runtime) -> ProductImportStrategy:
    found = runtime.registry.get("product-import")
    assert isinstance(found, ProductImportStrategy)
    return found


def test_processing_twice_imports_once(
    client: TestClient[Any],
    runtime: Runtime,
    admin: Caller,
    strategy: ProductImportStrategy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = upload(client, admin, HEADER + "a,A,,V,sku-a,1\na,A,,W,sku-b,2\n")
    job_id = start_import(client, admin, key, dry_run=True)
    wait_for_status(client, admin, job_id, ["pre_processed"])
    run = ApplicationJobRun(runtime.app, job_id, "test")
    # The first attempt dies after its save, before it cleans up.
    monkeypatch.setattr(strategy, "_finish", lambda *_: None)
    strategy.process_job(run)
    assert runtime.files.exists(key)
    monkeypatch.undo()

    strategy.process_job(run)  # the redelivered message
    confirmed = post(client, admin, f"/admin/batch-jobs/{job_id}/confirm", {})
    assert confirmed.status_code == 200
    job = wait_for_status(client, admin, job_id, timeout=30)

    assert job["status"] == "completed", job
    assert job["result"]["advancement_count"] == job["result"]["count"] == 3
    listed = list_products(client, admin)
    assert listed["count"] == 1
    assert [v["sku"] for v in listed["products"][0]["variants"]] == ["sku-a", "sku-b"]
    assert not runtime.files.exists(key)
    assert not runtime.files.exists(ops_key(job_id))


def test_catalog_events_name_the_batch_job(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    job = run_import(client, admin, HEADER + "a,A,,V,sku-a,1\n")

    (product,) = list_products(client, admin)["products"]
    stored: Any = runtime.app.repository.get(product["id"])
    assert stored.created_actor == f"batch:{job['id']}"


def test_semicolons_a_bom_crlf_and_quoted_multiline_cells(
    client: TestClient[Any], admin: Caller
) -> None:
    csv = (
        "\ufeffProduct Handle;Product Title;Product Description;Variant Title;"
        "Price JPY;Price EUR\r\n"
        'yen;"Yen; the shirt";"first line\r\nsecond; line, too";"One ""big""";1200;'
        "10.5\r\n\r\n"
    )

    run_import(client, admin, csv.encode())

    (product,) = list_products(client, admin)["products"]
    assert product["title"] == "Yen; the shirt"
    assert product["description"] == "first line\r\nsecond; line, too"
    (variant,) = product["variants"]
    assert variant["title"] == 'One "big"'
    amounts = {p["currency_code"]: p["amount"] for p in variant["prices"]}
    assert amounts == {"jpy": 1200, "eur": 1050}


def test_a_file_ending_without_a_newline_and_one_with_several(
    client: TestClient[Any], admin: Caller
) -> None:
    run_import(client, admin, HEADER + "a,A,,V,sku-a,1")
    run_import(client, admin, HEADER + "b,B,,V,sku-b,1\n\n\n")

    assert list_products(client, admin)["count"] == 2


def test_a_product_changed_meanwhile_makes_the_import_retry_not_lose_either_change(
    client: TestClient[Any],
    runtime: Runtime,
    admin: Caller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    product = created(client, admin, "/admin/products", {
        "title": "Before", "handle": "a",
        "variants": [{"title": "V", "sku": "sku-a",
                      "prices": [{"currency_code": "usd", "amount": 100}]}],
    }, "product")  # fmt: skip
    variant_id = product["variants"][0]["id"]
    commits: list[int] = []
    real_save = StagedChanges.save

    def save_after_someone_else(staged: StagedChanges, *also: Any) -> int:
        commits.append(len(commits))
        if len(commits) == 1:  # a user edits the product between read and commit
            changes = runtime.catalog.changes(admin.user.id)
            runtime.catalog.update_product(
                changes, product["id"], {"description": "Edited meanwhile"}
            )
            changes.save()
        return real_save(staged, *also)

    monkeypatch.setattr(StagedChanges, "save", save_after_someone_else)
    csv = (
        "Product Id,Product Handle,Product Title,Variant Id,Variant Title,"
        f"Variant SKU\n{product['id']},a,After,{variant_id},V,sku-a\n,b,B,,W,sku-b\n"
    )

    job = run_import(client, admin, csv)

    assert len(commits) == 2
    assert job["context"]["retry_count"] == 1
    listed = {p["handle"]: p for p in list_products(client, admin)["products"]}
    assert (listed["a"]["title"], listed["a"]["description"]) == (
        "After",
        "Edited meanwhile",
    )
    assert listed["b"]["variants"][0]["sku"] == "sku-b"
