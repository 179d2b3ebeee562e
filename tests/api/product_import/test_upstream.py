"""product-import through the API: Medusa's upstream import cases, the round trip.

Seed data is built through the admin API, as the upstream seeders build it in the
database; the template files are the upstream ones (see import_files/).
"""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from service.runtime import Runtime
from tests.api.catalog.support import created, post
from tests.api.product_import.support import (
    list_products,
    run_import,
    seed_collection,
    seed_regions,
    start_import,
    template,
    upload,
)
from tests.support import Caller, wait_for_status

DESCRIPTION = (
    "Hopper Stripes Bedding, available as duvet cover, pillow sham and sheet."
    "\\n100% organic cotton, soft and crisp to the touch. Made in Portugal."
)


def existing_product(client: TestClient[Any], admin: Caller) -> dict[str, Any]:
    """simpleProductFactory's product: option Size, variant test-sku-4 (Large)."""
    body = {
        "title": "Test product",
        "options": [{"title": "Size"}],
        "variants": [
            {"title": "Initial tile", "sku": "test-sku-4", "inventory_quantity": 3,
             "prices": [{"currency_code": "usd", "amount": 999}],
             "options": [{"value": "Large"}]}
        ],
    }  # fmt: skip
    return created(client, admin, "/admin/products", body, "product")


def by_handle(products: list[dict[str, Any]], handle: str) -> dict[str, Any]:
    return next(p for p in products if p["handle"] == handle)


def prices_of(variant: dict[str, Any]) -> set[tuple[str, int, str | None]]:
    return {
        (p["currency_code"], p["amount"], p["region_id"]) for p in variant["prices"]
    }


def check_updated_product(
    updated: dict[str, Any], existing: dict[str, Any], regions: dict[str, str]
) -> None:
    size = existing["options"][0]["id"]
    assert updated["id"] == existing["id"]
    assert (updated["title"], updated["description"]) == (
        "Test product", "test-product-description",
    )  # fmt: skip
    assert (updated["thumbnail"], updated["status"]) == ("test-image.png", "draft")
    assert isinstance(updated["profile_id"], str)
    assert [i["url"] for i in updated["images"]] == ["test-image.png"]
    assert [(o["id"], o["title"]) for o in updated["options"]] == [(size, "Size")]
    assert updated["type"]["value"] == "test-type"
    assert [t["value"] for t in updated["tags"]] == ["123"]
    assert updated["collection"]["handle"] == "test-collection2"
    variants = {v["sku"]: v for v in updated["variants"]}
    assert set(variants) == {"test-sku-2", "test-sku-3", "test-sku-4"}
    changed = variants["test-sku-4"]
    assert changed["id"] == existing["variants"][0]["id"]
    assert (changed["title"], changed["barcode"]) == (
        "Test variant changed", "test-barcode-4",
    )  # fmt: skip
    assert [(v["value"], v["option_id"]) for v in changed["options"]] == [
        ("Large", size)
    ]
    # No price cells: the variant keeps its prices (Medusa would wipe them).
    assert prices_of(changed) == {("usd", 999, None)}
    for sku, price, value in (
        ("test-sku-2", ("dkk", 110, regions["Denmark"]), "Small"),
        ("test-sku-3", ("usd", 120, None), "Medium"),
    ):
        variant = variants[sku]
        assert (variant["title"], variant["product_id"]) == (
            "Test variant", existing["id"],
        )  # fmt: skip
        assert variant["barcode"] == sku.replace("sku", "barcode")
        assert (variant["inventory_quantity"], variant["allow_backorder"]) == (
            10,
            False,
        )
        assert variant["manage_inventory"] is True
        assert prices_of(variant) == {price}
        assert [(v["value"], v["option_id"]) for v in variant["options"]] == [
            (value, size)
        ]


def test_a_csv_file_is_imported(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    regions = seed_regions(client, admin)
    seed_collection(client, admin, "test-collection1")
    seed_collection(client, admin, "test-collection2")
    existing = existing_product(client, admin)
    csv = template(
        "product-import-template.csv",
        existing_product_id=existing["id"],
        existing_variant_id=existing["variants"][0]["id"],
    )

    job = run_import(client, admin, csv)

    assert job["result"]["count"] == 8
    assert job["result"]["advancement_count"] == 8
    assert job["result"]["operations"] == {
        "PRODUCT_CREATE": 2, "VARIANT_CREATE": 4, "PRODUCT_UPDATE": 1,
        "VARIANT_UPDATE": 1,
    }  # fmt: skip
    listed = list_products(client, admin)
    assert listed["count"] == 3
    for handle, sku, tags in (
        ("test-product-product-1", "test-sku-1", [{"value": "123_1"}]),
        ("test-product-product-1-1", "test-sku-1-1", []),
    ):
        new = by_handle(listed["products"], handle)
        assert (new["title"], new["description"]) == ("Test product", DESCRIPTION)
        assert (new["is_giftcard"], new["status"]) == (False, "draft")
        assert (new["thumbnail"], new["type"]) == ("test-image.png", None)
        assert [i["url"] for i in new["images"]] == ["test-image.png"]
        assert [o["title"] for o in new["options"]] == [
            "test-option-1",
            "test-option-2",
        ]
        assert [{"value": t["value"]} for t in new["tags"]] == tags
        assert new["collection"]["handle"] == "test-collection1"
        (variant,) = new["variants"]
        assert (variant["title"], variant["sku"]) == ("Test variant", sku)
        assert variant["barcode"] == sku.replace("sku", "barcode")
        assert (variant["ean"], variant["upc"]) == (None, None)
        assert variant["inventory_quantity"] == 10
        assert prices_of(variant) == {
            ("eur", 100, regions["ImportLand"]), ("usd", 110, None),
            ("dkk", 130, regions["denmark"]),
        }  # fmt: skip
        values = [v["value"] for v in variant["options"]]
        assert values == ["option 1 value red", "option 2 value 1"]

    check_updated_product(
        by_handle(listed["products"], "test-product-product-2"), existing, regions
    )


def test_the_uploaded_file_is_deleted_after_the_import(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    key = upload(client, admin, "Product Handle,Product Title,Variant Title\nh,T,V\n")
    job_id = start_import(client, admin, key)

    job = wait_for_status(client, admin, job_id, timeout=30)

    assert job["status"] == "completed", job
    assert not runtime.files.exists(key)
    assert not runtime.files.exists(f"imports/products/ops/{job_id}.jsonl")


def test_products_are_imported_into_existing_sales_channels(
    client: TestClient[Any], admin: Caller
) -> None:
    seed_regions(client, admin)
    seed_collection(client, admin, "test-collection1")
    for name in ("Import Sales Channel 1", "Import Sales Channel 2"):
        created(client, admin, "/admin/sales-channels", {"name": name}, "sales_channel")

    run_import(client, admin, template("product-import-ss-template.csv"))

    listed = list_products(client, admin)
    assert listed["count"] == 1
    (product,) = listed["products"]
    assert (product["title"], product["description"]) == ("Test product", DESCRIPTION)
    assert product["handle"] == "test-product-product-1"
    assert [(v["title"], v["sku"]) for v in product["variants"]] == [
        ("Test variant", "test-sku-1")
    ]
    assert [(c["name"], c["is_disabled"]) for c in product["sales_channels"]] == [
        ("Import Sales Channel 1", False),
        ("Import Sales Channel 2", False),
    ]
    assert product["collection"]["handle"] == "test-collection1"


def test_products_are_imported_into_an_existing_category(
    client: TestClient[Any], admin: Caller
) -> None:
    seed_regions(client, admin)
    seed_collection(client, admin, "test-collection1")
    body = {"name": "category", "handle": "import-category-1"}
    created(client, admin, "/admin/product-categories", body, "product_category")

    run_import(client, admin, template("product-import-pc-template.csv"))

    listed = list_products(client, admin, "?expand=categories")
    assert listed["count"] == 1
    (product,) = listed["products"]
    assert (product["title"], product["handle"]) == (
        "Test product", "test-product-product-1",
    )  # fmt: skip
    assert [c["handle"] for c in product["categories"]] == ["import-category-1"]


def test_a_dry_run_waits_with_its_preview_until_confirmed(
    client: TestClient[Any], admin: Caller
) -> None:
    csv = "Product Handle,Product Title,Variant Title,Price USD\na,A,One,1\na,A,Two,2\n"
    job_id = start_import(client, admin, upload(client, admin, csv), dry_run=True)

    job = wait_for_status(client, admin, job_id, ["pre_processed"])

    assert job["result"]["stat_descriptors"] == [
        {
            "key": "product-import-count",
            "name": "Products/variants to import",
            "message": "There will be 1 products created (0  updated)."
            "\n             2 variants will be created and 0 updated",
        }
    ]
    assert job["result"]["count"] == 3
    assert job["result"]["advancement_count"] == 0
    assert job["result"]["operations"] == {
        "PRODUCT_CREATE": 1, "VARIANT_CREATE": 2, "PRODUCT_UPDATE": 0,
        "VARIANT_UPDATE": 0,
    }  # fmt: skip
    assert set(job["result"]["files"]) == {"PRODUCT_CREATE", "VARIANT_CREATE"}
    assert list_products(client, admin)["count"] == 0
    confirmed = post(client, admin, f"/admin/batch-jobs/{job_id}/confirm", {})
    assert confirmed.status_code == 200, confirmed.text
    done = wait_for_status(client, admin, job_id, timeout=30)
    assert done["status"] == "completed", done
    (product,) = list_products(client, admin)["products"]
    assert [v["title"] for v in product["variants"]] == ["One", "Two"]


def test_an_exported_file_imports_back_unchanged(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    europe = seed_regions(client, admin)["ImportLand"]
    collection_id = seed_collection(client, admin, "test-collection")
    channel = created(
        client, admin, "/admin/sales-channels", {"name": "Web shop"}, "sales_channel"
    )
    created(client, admin, "/admin/products", {
        "title": "Test product", "handle": "test-product", "collection_id": collection_id,
        "description": 'two\nlines; and a "quote"', "type": {"value": "shirt"},
        "tags": [{"value": "a"}, {"value": "b"}], "images": ["x.png", "y.png"],
        "sales_channels": [{"id": channel["id"]}], "options": [{"title": "size"}],
        "variants": [
            {"title": f"Variant {size}", "sku": f"sku-{size}", "inventory_quantity": 4,
             "prices": [{"currency_code": "usd", "amount": 1050},
                        {"region_id": europe, "amount": 900},
                        {"currency_code": "jpy", "amount": 1200}],
             "options": [{"value": size}]}
            for size in ("S", "M", "L", "XL")
        ],
    }, "product")  # fmt: skip
    created(client, admin, "/admin/products", {"title": "Other product"}, "product")
    before = list_products(client, admin)
    export = post(client, admin, "/admin/batch-jobs", {"type": "product-export",
                                                        "context": {}})  # fmt: skip
    exported = wait_for_status(
        client, admin, export.json()["batch_job"]["id"], timeout=30
    )
    with runtime.files.open_reader(exported["result"]["file_key"]) as reader:
        content = b"".join(reader.chunks()).decode()
    assert len(_rows(content)) == 4  # one line per variant; none for "Other product"

    job = run_import(client, admin, content)

    assert job["result"]["operations"] == {
        "PRODUCT_CREATE": 0, "VARIANT_CREATE": 0, "PRODUCT_UPDATE": 1,
        "VARIANT_UPDATE": 4,
    }  # fmt: skip
    after = list_products(client, admin)
    assert _differences(_comparable(after), _comparable(before)) == []


def _rows(content: str) -> list[str]:
    import csv  # noqa: PLC0415
    import io  # noqa: PLC0415

    return [";".join(r) for r in csv.reader(io.StringIO(content), delimiter=";")][1:]


def _differences(left: Any, right: Any, path: str = "") -> list[str]:
    if isinstance(left, dict) and isinstance(right, dict):
        return [
            d for k in sorted(set(left) | set(right))
            for d in _differences(left.get(k), right.get(k), f"{path}.{k}")
        ]  # fmt: skip
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        return [
            d for i, (a, b) in enumerate(zip(left, right, strict=True))
            for d in _differences(a, b, f"{path}[{i}]")
        ]  # fmt: skip
    return [] if left == right else [f"{path}: {left!r} != {right!r}"]


def _comparable(value: Any) -> Any:
    """Documents without the times an update moves."""
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items() if k != "updated_at"}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value
