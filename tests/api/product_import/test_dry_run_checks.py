"""A dry run finds what processing would refuse; the first error is Medusa's first."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from tests.api.catalog.support import created
from tests.api.product_import.support import (
    list_products,
    row_error,
    run_import,
    seed_collection,
    seed_regions,
    start_import,
    upload,
)
from tests.support import Caller, wait_for_status

VARIANT_SUFFIX = "\nCannot read properties of undefined (reading 'length')"


def dry_run(client: TestClient[Any], admin: Caller, csv: str) -> dict[str, Any]:
    """A dry run that pre-processing refuses: failed, never pre_processed."""
    job_id = start_import(client, admin, upload(client, admin, csv), dry_run=True)
    job = wait_for_status(client, admin, job_id)
    assert job["status"] == "failed", job
    assert job["pre_processed_at"] is None
    assert "error_report_file_key" in job["result"]
    assert list_products(client, admin)["count"] == 0
    return job


def test_a_missing_region_comes_before_an_earlier_new_variant_without_a_title(
    client: TestClient[Any], admin: Caller
) -> None:
    seed_regions(client, admin)
    csv = (
        "Product Handle,Product Title,Variant Title,Variant SKU,Price Atlantis [EUR]\n"
        "a,A,,s1,\n"
        "b,B,V,s2,3\n"
    )

    job = run_import(client, admin, csv, status="failed")

    assert job["result"]["errors"] == [
        "Trying to set a price for a region Atlantis that doesn't exist",
        'Line 2, column "Variant Title": a new variant needs a title',
        (
            'Line 3, column "Price Atlantis": '
            "Trying to set a price for a region Atlantis that doesn't exist"
        ),
    ]


def test_a_product_error_comes_before_an_earlier_rows_variant_error(
    client: TestClient[Any], admin: Caller
) -> None:
    csv = (
        "Product Handle,Product Title,Product Collection Handle,Variant Title\n"
        "a,A,,\n"
        "b,B,nowhere,V\n"
    )

    job = run_import(client, admin, csv, status="failed")

    assert job["result"]["errors"][0] == row_error(
        "Product collection with handle: nowhere was not found", "b"
    )
    assert job["result"]["errors"][1:] == [
        'Line 2, column "Variant Title": a new variant needs a title',
        (
            'Line 3, column "Product Collection Handle": '
            "Product collection with handle: nowhere was not found"
        ),
    ]


def test_a_parse_error_still_comes_first(
    client: TestClient[Any], admin: Caller
) -> None:
    csv = "Product Handle,Product Title,Variant Title,Price Atlantis [EUR]\n"
    csv += "a,A,V,1\n,B,V,\n"

    job = run_import(client, admin, csv, status="failed")

    assert job["result"]["errors"][0] == (
        "The csv file parsing failed due to: No value found for target column "
        '"Product Handle" in line 2 of the given csv file'
    )


def test_a_bad_status_fails_the_dry_run_on_its_line(
    client: TestClient[Any], admin: Caller
) -> None:
    csv = "Product Handle,Product Title,Product Status,Variant Title\n"
    csv += "ok,OK,draft,V\nh,T,bogus,V\n"

    job = dry_run(client, admin, csv)

    message = "status must be one of draft, proposed, published, rejected"
    assert job["result"]["errors"] == [
        row_error(message, "h"),
        f'Line 3, column "Product Status": {message}',
    ]


HEADER = (
    "Product Id,Product Handle,Product Title,Variant Id,Variant Title,Variant SKU,"
    "Price USD,Price XTS,Option 1 Name,Option 1 Value\n"
)


def ref(message: str, handle: str, sku: str, product: str = "null") -> str:
    return (
        "Error while processing row with\n"
        f"      [(product id: {product}),\n"
        f"      (product handle: {handle}),\n"
        "      (variant id: null),\n"
        f"      (variant sku: {sku})]: \n"
        f"      {message}"
    )


@pytest.mark.parametrize(
    ("rows", "column", "message", "line", "handle", "sku"),
    [
        (
            ",kept,K,,V,s1,1,,,\n", "Product Handle",
            "Product with handle kept already exists.", 2, "kept", "s1",
        ),
        (
            ",a,A,,V,taken,1,,,\n", "Variant SKU",
            'duplicate key value violates unique constraint '
            '"IDX_2ca8cfbdafb998ecfd6d340389"' + VARIANT_SUFFIX, 2, "a", "taken",
        ),
        (
            ",a,A,,V,x1,1,,,\n,b,B,,V,x1,1,,,\n", "Variant SKU",
            'duplicate key value violates unique constraint '
            '"IDX_2ca8cfbdafb998ecfd6d340389"' + VARIANT_SUFFIX, 3, "b", "x1",
        ),
        (
            ",a,A,,V,x1,1,,Size,S\n,a,A,,V2,x2,1,,Size,S\n", "Option Value",
            "Variant with title V2 with provided options already exists"
            + VARIANT_SUFFIX, 3, "a", "x2",
        ),
        (
            ",a,A,,V,x1,1,,Size,S\n,a,A,,V2,x2,1,,Color,M\n", "Option Value",
            "Product option with title Color was not found", 3, "a", "x2",
        ),
        (
            ",a,A,,V,x1,1,,Size,\n", "Option Value",
            "Variant options do not contain value for Size" + VARIANT_SUFFIX,
            2, "a", "x1",
        ),
        (
            ",a,A,,V,x1,,7,,\n", "Price",
            'insert or update on table "money_amount" violates foreign key '
            'constraint "FK_e15811f81339e4bd8c440aebe1c"' + VARIANT_SUFFIX,
            2, "a", "x1",
        ),
    ],
)  # fmt: skip
def test_what_processing_refuses_fails_the_dry_run_on_its_line(  # noqa: PLR0917
    client: TestClient[Any],
    admin: Caller,
    rows: str,
    column: str,
    message: str,
    line: int,
    handle: str,
    sku: str,
) -> None:
    body = {
        "title": "Kept", "handle": "kept",
        "variants": [{"title": "v", "sku": "taken",
                      "prices": [{"currency_code": "usd", "amount": 1}]}],
    }  # fmt: skip
    created(client, admin, "/admin/products", body, "product")

    job_id = start_import(
        client, admin, upload(client, admin, HEADER + rows), dry_run=True
    )
    job = wait_for_status(client, admin, job_id)

    assert job["status"] == "failed", job
    assert job["pre_processed_at"] is None
    assert job["result"]["errors"] == [
        ref(message, handle, sku),
        f'Line {line}, column "{column}": {message}',
    ]
    assert list_products(client, admin)["count"] == 1


def test_unknown_product_and_variant_ids_fail_the_dry_run(
    client: TestClient[Any], admin: Caller
) -> None:
    csv = "Product Id,Product Handle,Product Title,Variant Id,Variant Title\n"
    csv += "prod_missing,h,T,,V\n,n,N,variant_missing,V\n"

    job = dry_run(client, admin, csv)

    assert job["result"]["errors"][1:] == [
        'Line 2, column "Product Id": Product with id: prod_missing was not found',
        'Line 3, column "Variant Id": Variant with id: variant_missing was not found',
    ]


def test_rows_of_an_existing_product_are_checked_against_its_variants(
    client: TestClient[Any], admin: Caller
) -> None:
    collection = seed_collection(client, admin, "c")
    body = {
        "title": "Shirt", "handle": "shirt", "collection_id": collection,
        "options": [{"title": "Size"}],
        "variants": [{"title": "S", "sku": "shirt-s", "options": [{"value": "S"}],
                      "prices": [{"currency_code": "usd", "amount": 1}]}],
    }  # fmt: skip
    product = created(client, admin, "/admin/products", body, "product")
    variant = product["variants"][0]["id"]
    csv = (
        "Product Id,Product Handle,Product Title,Variant Id,Variant Title,"
        "Variant SKU,Option 1 Name,Option 1 Value\n"
        f"{product['id']},shirt,Shirt,{variant},S,shirt-s,Size,S\n"
        f"{product['id']},shirt,Shirt,,M,shirt-m,Size,M\n"
        f"{product['id']},shirt,Shirt,,M again,shirt-m2,Size,M\n"
    )

    job = run_import(client, admin, csv, status="failed")

    assert job["result"]["errors"][1:] == [
        'Line 4, column "Option Value": Variant with title M again with provided '
        "options already exists" + VARIANT_SUFFIX
    ]
    good = csv.rsplit("\n", 2)[0] + "\n"
    run_import(client, admin, good)
    (shirt,) = list_products(client, admin)["products"]
    assert sorted(v["sku"] for v in shirt["variants"]) == ["shirt-m", "shirt-s"]
