"""Cells Medusa's import treats its own way: External Id is applied, leading quotes go."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.api.product_import.support import list_products, run_import
from tests.support import Caller

HEADER = "Product Handle,Product Title,Product External Id,Variant Title,Variant SKU\n"


def test_the_external_id_is_set_on_create_and_on_update(
    client: TestClient[Any], admin: Caller
) -> None:
    run_import(client, admin, HEADER + "shirt,Shirt,erp-1,One,sku-1\n")
    created = list_products(client, admin)["products"][0]
    assert created["external_id"] == "erp-1"

    header = "Product Id,Variant Id," + HEADER
    variant_id = created["variants"][0]["id"]
    row = f"{created['id']},{variant_id},shirt,Shirt,erp-2,One,sku-1\n"
    run_import(client, admin, header + row)

    assert list_products(client, admin)["products"][0]["external_id"] == "erp-2"


def test_a_field_starting_with_a_quote_loses_its_first_and_last_characters(
    client: TestClient[Any], admin: Caller
) -> None:
    # Parsed, the title is `"Best" shirt` and the SKU `"sku"`; Medusa strips both.
    csv = HEADER + 'shirt,"""Best"" shirt",,"""One""","""sku"""\n'

    run_import(client, admin, csv)

    product = list_products(client, admin)["products"][0]
    assert product["title"] == 'Best" shir'
    assert [(v["title"], v["sku"]) for v in product["variants"]] == [("One", "sku")]
