"""A new product's rows: created with all its variants at once, or judged row by row.

The grouped create must give what Medusa's create-then-add-each-variant gives, and
any row it could judge differently must fail exactly as row by row would.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from domain.catalog.prices import VARIANT_ERROR_SUFFIX
from tests.api.product_import.support import list_products, row_error, run_import
from tests.support import Caller

HEADER = (
    "Product Handle,Product Title,Variant Title,Variant SKU,Option 1 Name,"
    "Option 1 Value,Price USD\n"
)


def test_a_new_products_rows_make_one_product_with_every_variant_in_order(
    client: TestClient[Any], admin: Caller
) -> None:
    csv = HEADER + (
        "shirt,Shirt,Small,sku-s,Size,S,10.50\n"
        "shirt,Shirt,Medium,sku-m,Size,M,11\n"
        "shirt,Shirt,Large,sku-l,Size,L,\n"
        "cap,Cap,One,sku-cap,Size,One size,3\n"
    )

    job = run_import(client, admin, csv)

    products = list_products(client, admin, "?order=title")["products"]
    assert [p["handle"] for p in products] == ["cap", "shirt"]
    shirt = products[1]
    option_id = shirt["options"][0]["id"]
    assert [o["title"] for o in shirt["options"]] == ["Size"]
    assert [
        (v["title"], v["sku"], v["variant_rank"], [(o["option_id"], o["value"])
         for o in v["options"]], [(p["currency_code"], p["amount"])
         for p in v["prices"]])
        for v in shirt["variants"]
    ] == [
        ("Small", "sku-s", 0, [(option_id, "S")], [("usd", 1050)]),
        ("Medium", "sku-m", 1, [(option_id, "M")], [("usd", 1100)]),
        ("Large", "sku-l", 2, [(option_id, "L")], []),
    ]  # fmt: skip
    events = client.get(
        f"/admin/products/{shirt['id']}/events", headers=admin.headers
    ).json()["events"]
    assert [(e["name"], e["actor"]) for e in events] == [
        ("product.created", f"batch:{job['id']}")
    ]
    assert job["result"]["advancement_count"] == 6  # 2 products and 4 variants


@pytest.mark.parametrize(
    ("second_row", "message"),
    [
        pytest.param(
            "shirt,Shirt,Again,sku-2,Size,S,1",
            "Variant with title Again with provided options already exists"
            + VARIANT_ERROR_SUFFIX,  # Medusa's variant errors end so
            id="the same option values",
        ),
        pytest.param(
            "shirt,Shirt,Red,sku-2,Color,Red,1",
            "Product option with title Color was not found",
            id="another option",
        ),
    ],
)
def test_a_second_row_the_group_cannot_take_fails_on_that_row(
    client: TestClient[Any], admin: Caller, second_row: str, message: str
) -> None:
    csv = HEADER + "shirt,Shirt,Small,sku-1,Size,S,1\n" + second_row + "\n"

    job = run_import(client, admin, csv, status="failed")

    assert job["result"]["errors"][0] == row_error(message, "shirt", "sku-2")
    assert list_products(client, admin)["count"] == 0


def test_a_new_product_after_a_failed_group_leaves_nothing_behind(
    client: TestClient[Any], admin: Caller
) -> None:
    """An error in one product's rows fails the import; earlier products vanish too."""
    csv = HEADER + (
        "first,First,One,sku-a,Size,S,1\n"
        "second,Second,One,sku-b,Size,S,1\n"
        "second,Second,Two,sku-c,Size,S,1\n"
    )

    job = run_import(client, admin, csv, status="failed")

    assert "already exists" in job["result"]["errors"][0]
    assert list_products(client, admin)["count"] == 0
