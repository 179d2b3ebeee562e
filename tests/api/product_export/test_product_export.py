"""product-export through the API: Medusa's upstream export cases, cancel, download.

The seed data is built through the admin API, as the upstream suite's seeders do.
"""

from __future__ import annotations

import time
from typing import Any

from litestar.testing import TestClient

from service.http.catalog.product_bodies import validate_create
from service.runtime import Runtime
from tests.api.catalog.support import created, post
from tests.support import Caller, wait_for_status

PRODUCTS_TO_CANCEL = 1500


def export_product(
    client: TestClient[Any], admin: Caller, collection_id: str, **extra: Any
) -> dict[str, Any]:
    """Upstream test 1's product: 2 images, tags, 2 options, a variant in 3 currencies."""
    body = {
        "title": "Test export product",
        "description": "test-product-description",
        "type": {"value": "test-type"},
        "images": ["test-image.png", "test-image-2.png"],
        "collection_id": collection_id,
        "tags": [{"value": "123"}, {"value": "456"}],
        "options": [{"title": "size"}, {"title": "color"}],
        "variants": [
            {
                "title": "Test variant",
                "inventory_quantity": 10,
                "sku": "test-variant-sku-product-export",
                "prices": [
                    {"currency_code": "usd", "amount": 100},
                    {"currency_code": "eur", "amount": 45},
                    {"currency_code": "dkk", "amount": 30},
                ],
                "options": [{"value": "large"}, {"value": "green"}],
            }
        ],
        **extra,
    }
    return created(client, admin, "/admin/products", body, "product")


def collection(client: TestClient[Any], admin: Caller, handle: str) -> str:
    body = {"title": f"Collection {handle}", "handle": handle}
    return str(created(client, admin, "/admin/collections", body, "collection")["id"])


def run_export(
    client: TestClient[Any], admin: Caller, context: dict[str, Any]
) -> dict[str, Any]:
    response = post(
        client,
        admin,
        "/admin/batch-jobs",
        {"type": "product-export", "context": context},
    )
    assert response.status_code == 201, response.text
    job_id = response.json()["batch_job"]["id"]
    assert job_id
    done = wait_for_status(client, admin, job_id, timeout=30)
    assert done["status"] == "completed", done
    return done


def exported(runtime: Runtime, job: dict[str, Any]) -> bytes:
    with runtime.files.open_reader(job["result"]["file_key"]) as reader:
        return b"".join(reader.chunks())


def data_lines(content: bytes) -> list[str]:
    return [line for line in content.decode().split("\r\n")[1:] if line]


def test_an_export_contains_the_expected_product(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    product = export_product(
        client, admin, collection(client, admin, "test-collection")
    )

    job = run_export(
        client, admin, {"filterable_fields": {"title": "Test export product"}}
    )

    content = exported(runtime, job)
    assert job["result"]["file_size"] == len(content)
    (line,) = data_lines(content)
    cells = line.split(";")
    variant = product["variants"][0]
    assert (cells[0], cells[2], cells[4]) == (
        product["id"], "Test export product", "test-product-description",
    )  # fmt: skip
    assert (cells[23], cells[24], cells[25]) == (
        variant["id"], "Test variant", "test-variant-sku-product-export",
    )  # fmt: skip
    header = content.decode().split("\r\n")[0].split(";")
    prices = {
        name: cells[header.index(name)]
        for name in ("Price USD", "Price EUR", "Price DKK")
    }
    assert prices == {"Price USD": "1", "Price EUR": "0.45", "Price DKK": "0.3"}
    assert job["result"]["count"] == 1
    assert job["result"]["advancement_count"] == 1
    assert job["result"]["progress"] == 1
    assert job["result"]["stat_descriptors"] == [
        {
            "key": "product-export-count",
            "name": "Product count to export",
            "message": "There will be 1 products exported by this action",
        }
    ]
    assert job["context"]["list_config"] == {
        "order": {"created_at": "DESC"},
        "relations": [
            "variants", "variants.prices", "variants.options", "profiles", "images",
            "options", "options.values", "tags", "type", "collection",
            "variants.prices.region", "sales_channels",
        ],
        "skip": 0,
        "take": 50,
    }  # fmt: skip


def test_a_newline_in_a_cell_is_quoted(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    collection_id = collection(client, admin, "test-collection")
    export_product(
        client, admin, collection_id,
        description="test-product-description\ntest line 2",
    )  # fmt: skip

    job = run_export(
        client, admin, {"filterable_fields": {"title": "Test export product"}}
    )

    content = exported(runtime, job)
    assert job["result"]["file_size"] == len(content)
    (line,) = data_lines(content)
    assert line.split(";")[4] == '"test-product-description\ntest line 2"'


def test_batch_size_limits_the_products_exported(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    collection_id = collection(client, admin, "test-collection")
    first = created(client, admin, "/admin/products", {
        "title": "Test product", "handle": "test-product", "collection_id": collection_id,
        "options": [{"title": "size"}],
        "variants": [
            {"title": f"Variant {size}", "prices": [{"currency_code": "usd", "amount": 100}],
             "options": [{"value": size}]}
            for size in ("S", "M", "L", "XL")
        ],
    }, "product")  # fmt: skip
    time.sleep(0.005)
    export_product(client, admin, collection_id)

    job = run_export(
        client, admin,
        {"batch_size": 1, "filterable_fields": {"collection_id": collection_id},
         "order": "created_at"},
    )  # fmt: skip

    lines = data_lines(exported(runtime, job))
    assert len(lines) == 4  # the first product's four variants
    assert {line.split(";")[0] for line in lines} == {first["id"]}
    assert lines[0].split(";")[1] == "test-product"
    assert job["result"]["count"] == 1


def test_an_export_of_nothing_still_has_a_file_with_a_header(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    job = run_export(client, admin, {"filterable_fields": {"title": "no such product"}})

    content = exported(runtime, job)
    assert job["result"]["file_key"].startswith("exports/products/product-export-")
    assert content.decode().startswith("Product Id;Product Handle;")
    assert content.endswith(b"Variant Material\r\n")
    assert job["result"]["file_size"] == len(content)


def test_the_finished_file_downloads_through_a_signed_url(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    export_product(client, admin, collection(client, admin, "test-collection"))
    job = run_export(client, admin, {})

    signed = post(
        client, admin, "/admin/uploads/download-url",
        {"file_key": job["result"]["file_key"]},
    )  # fmt: skip
    assert signed.status_code == 200, signed.text
    download = client.get(signed.json()["download_url"])

    assert download.status_code == 200
    assert download.content == exported(runtime, job)


def test_unknown_filterable_fields_are_refused_at_creation(
    client: TestClient[Any], admin: Caller
) -> None:
    response = post(
        client, admin, "/admin/batch-jobs",
        {"type": "product-export", "context": {"filterable_fields": {"colour": "red"}}},
    )  # fmt: skip

    assert response.status_code == 400
    assert response.json() == {
        "type": "invalid_data",
        "message": "filterable_fields colour are not supported for product-export",
    }


def test_a_canceled_export_leaves_no_file_and_no_file_key(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    # Enough pages (one product each) that the cancel lands mid-way on a fast machine
    # too; seeded in one save, the API is not what this test is about.
    runtime.catalog.ensure_store()
    changes = runtime.catalog.changes(admin.user.id)
    for n in range(PRODUCTS_TO_CANCEL):
        runtime.catalog.create_product(changes, validate_create({
            "title": f"Product {n}",
            "variants": [{"title": "One", "prices": [{"currency_code": "usd", "amount": 100}]}],
        }))  # fmt: skip
    runtime.catalog_reads.settle(changes.save())
    response = post(
        client, admin, "/admin/batch-jobs",
        {"type": "product-export", "context": {"limit": 1}},  # a page per product
    )  # fmt: skip
    job_id = response.json()["batch_job"]["id"]
    deadline = time.monotonic() + 20
    while True:
        job = client.get(f"/admin/batch-jobs/{job_id}", headers=admin.headers).json()
        if (job["batch_job"]["result"] or {}).get("advancement_count", 0) >= 1:
            break
        assert time.monotonic() < deadline, job
        time.sleep(0.005)
    key = job["batch_job"]["result"]["file_key"]

    canceled = post(client, admin, f"/admin/batch-jobs/{job_id}/cancel", {})
    assert canceled.status_code == 200
    for _ in range(500):  # the worker stops within a page and cleans up
        final = client.get(f"/admin/batch-jobs/{job_id}", headers=admin.headers).json()
        if "file_key" not in (final["batch_job"]["result"] or {}):
            break
        time.sleep(0.01)

    result = final["batch_job"]["result"]
    assert final["batch_job"]["status"] == "canceled"
    assert "file_key" not in result and "file_size" not in result
    assert result["advancement_count"] < PRODUCTS_TO_CANCEL  # stopped mid-way
    assert not runtime.files.exists(key)
