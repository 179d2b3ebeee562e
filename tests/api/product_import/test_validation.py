"""A bad import file: Medusa's message first, then every bad row, and a report file."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from service.runtime import Runtime
from tests.api.product_import.support import (
    list_products,
    row_error,
    run_import,
    seed_collection,
    seed_regions,
)
from tests.support import Caller

PARSING = "The csv file parsing failed due to: "
UNKNOWN = (
    "Unable to treat column {} from the csv file. "
    "No target column found in the provided schema"
)


def report(runtime: Runtime, job: dict[str, Any]) -> str:
    with runtime.files.open_reader(job["result"]["error_report_file_key"]) as reader:
        return b"".join(reader.chunks()).decode()


def test_an_unknown_column_fails_the_job_with_medusas_message(
    client: TestClient[Any], admin: Caller
) -> None:
    csv = "Product Handle,Product Title,Variant Title,non-descript-column\nh,T,V,x\n"

    job = run_import(client, admin, csv, status="failed")

    assert job["result"]["errors"] == [
        PARSING + UNKNOWN.format("non-descript-column"),
        'Line 1, column "non-descript-column": not a column of the product import',
    ]


def test_a_near_miss_column_name_says_which_column_was_meant(
    client: TestClient[Any], admin: Caller
) -> None:
    csv = "Product Handel,Product Title,Variant Title\nh,T,V\n"

    job = run_import(client, admin, csv, status="failed")

    assert job["result"]["errors"] == [
        PARSING + UNKNOWN.format("Product Handel"),
        (
            'Line 1, column "Product Handel": not a column of the product import; '
            'did you mean "Product Handle"?'
        ),
        'Line 1, column "Product Handle": the required column is missing',
    ]


def test_a_file_without_the_handle_column_is_refused(
    client: TestClient[Any], admin: Caller
) -> None:
    job = run_import(client, admin, "Product Title,Variant Title\nT,V\n", "failed")

    assert job["result"]["errors"][0] == (
        PARSING + 'Missing column(s) "Product Handle" from the given csv file'
    )


def test_every_bad_row_is_reported_with_its_line_and_column(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    seed_regions(client, admin)
    seed_collection(client, admin, "known")
    csv = (
        "Product Handle,Product Title,Product Collection Handle,Variant Title,"
        "Variant SKU,Price USD,Price Atlantis [EUR],Price ImportLand [EUR]\n"
        "good,Good,known,V,s1,1.5,,2\n"
        ",No handle,,V,s2,1,,\n"
        "lost,Lost,unknown,V,s3,1,,\n"
        "cheap,Cheap,,V,s4,abc,,\n"
        "sunk,Sunk,,V,s5,,3,\n"
    )

    job = run_import(client, admin, csv, status="failed")

    assert job["result"]["errors"] == [
        (
            PARSING + 'No value found for target column "Product Handle" in line 2 '
            "of the given csv file"
        ),
        'Line 3, column "Product Handle": no value',
        (
            'Line 4, column "Product Collection Handle": '
            "Product collection with handle: unknown was not found"
        ),
        'Line 5, column "Price USD": "abc" is not a number',
        (
            'Line 6, column "Price Atlantis": '
            "Trying to set a price for a region Atlantis that doesn't exist"
        ),
    ]
    assert "count" not in job["result"]  # no preview for a file that cannot be imported
    header = csv.splitlines()[0]
    assert report(runtime, job) == "\r\n".join([
        f"{header},Error",
        ',No handle,,V,s2,1,,,"Line 3, column ""Product Handle"": no value"',
        (
            'lost,Lost,unknown,V,s3,1,,,"Line 4, column ""Product Collection Handle"": '
            'Product collection with handle: unknown was not found"'
        ),
        'cheap,Cheap,,V,s4,abc,,,"Line 5, column ""Price USD"": ""abc"" is not a number"',
        (
            'sunk,Sunk,,V,s5,,3,,"Line 6, column ""Price Atlantis"": Trying to set a '
            "price for a region Atlantis that doesn't exist\""
        ),
        "",
    ])  # fmt: skip
    assert list_products(client, admin)["count"] == 0


def test_the_first_problem_of_a_row_gives_medusas_row_error(
    client: TestClient[Any], admin: Caller
) -> None:
    csv = "Product Handle,Product Title,Variant Title,Variant SKU,Price USD\n"
    csv += "h,T,V,sku-1,1.x\n"

    job = run_import(client, admin, csv, status="failed")

    assert job["result"]["errors"][0] == row_error(
        'Price USD: "1.x" is not a number', "h", "sku-1"
    )


def test_the_listed_rows_are_capped_and_the_rest_counted(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    csv = "Product Handle,Product Title,Variant Title,Variant Inventory Quantity\n"
    csv += "".join(f"h{n},T,V,lots\n" for n in range(130))

    job = run_import(client, admin, csv, status="failed")

    errors = job["result"]["errors"]
    assert len(errors) == 1 + 100 + 1
    assert (
        errors[1]
        == 'Line 2, column "Variant Inventory Quantity": "lots" is not a number'
    )
    key = job["result"]["error_report_file_key"]
    assert (
        errors[-1] == f"… and 30 more bad rows (the error report {key} lists them all)"
    )
    assert len(report(runtime, job).splitlines()) == 1 + 130


def test_cells_beyond_the_header_are_medusas_parsed_extra(
    client: TestClient[Any], admin: Caller
) -> None:
    job = run_import(
        client, admin, "Product Handle,Product Title,Variant Title\nh,T,V,x\n", "failed"
    )

    assert job["result"]["errors"] == [
        PARSING + UNKNOWN.format("__parsed_extra"),
        'Line 2, column "__parsed_extra": more cells than the header has',
    ]


def test_an_unknown_category_handle_is_a_row_error(
    client: TestClient[Any], admin: Caller
) -> None:
    csv = "Product Handle,Product Title,Variant Title,Product Category 1 Handle\n"

    job = run_import(client, admin, csv + "h,T,V,nowhere\n", "failed")

    assert job["result"]["errors"] == [
        row_error("Product category with handle: nowhere was not found", "h"),
        (
            'Line 2, column "Product Category Handle": '
            "Product category with handle: nowhere was not found"
        ),
    ]


def test_a_file_that_is_not_utf8_says_so(
    client: TestClient[Any], admin: Caller
) -> None:
    csv = "Product Handle,Product Title,Variant Title\nh,Caf\xe9,V\n".encode("latin-1")

    job = run_import(client, admin, csv, "failed")

    assert job["result"]["errors"] == [
        PARSING + "the file is not UTF-8 text; save it as CSV UTF-8"
    ]


def test_an_empty_file_is_refused(client: TestClient[Any], admin: Caller) -> None:
    job = run_import(client, admin, "\n", "failed")

    assert job["result"]["errors"] == [PARSING + "the file is empty"]
