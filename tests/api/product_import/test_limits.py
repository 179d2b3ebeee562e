"""Files that would exhaust the service: wide headers, long lines, huge reports, NULs."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from domain.product_csv.import_limits import MAX_CELLS_PER_LINE, MAX_COLUMNS
from service.runtime import Runtime
from service.strategies.product_import import report as report_module
from tests.api.product_import.support import (
    list_products,
    run_import,
    start_import,
    upload,
)
from tests.support import Caller, wait_for_status

PARSING = "The csv file parsing failed due to: "
HEADER = "Product Handle,Product Title,Variant Title"


def report(runtime: Runtime, job: dict[str, Any]) -> str:
    with runtime.files.open_reader(job["result"]["error_report_file_key"]) as reader:
        return b"".join(reader.chunks()).decode()


def test_header_problems_are_one_row_of_the_report_not_one_per_column(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    unknown = [f"c{n}" for n in range(1500)]
    csv = ",".join([HEADER, *unknown]) + "\n" + "h,T,V" + "," * 1500 + "\n"

    job = run_import(client, admin, csv, status="failed")

    text = report(runtime, job)
    lines = text.split("\r\n")
    assert len(lines) == 3  # the header, one row for the header's problems, ""
    assert lines[1].startswith('"Line 1, column ""c0"": not a column')
    assert lines[1].count('Line 1, column ""') == 1500
    assert len(text) < 150_000  # linear in the header: the old report was ~2.3 MB
    errors = job["result"]["errors"]
    assert errors[0].endswith("Unable to treat column c0 from the csv file. "
                              "No target column found in the provided schema")  # fmt: skip
    assert len(errors) == 1 + 100 + 1


def test_a_header_wider_than_the_cap_fails_with_one_clear_error(
    client: TestClient[Any], admin: Caller
) -> None:
    unknown = ",".join(f"c{n}" for n in range(10_000))
    csv = f"{HEADER},{unknown}\nh,T,V\n"

    job = run_import(client, admin, csv, status="failed")

    assert job["result"]["errors"] == [
        (
            f"{PARSING}the header has more than {MAX_COLUMNS} columns "
            "(the most a product import file may have)"
        )
    ]
    assert "error_report_file_key" not in job["result"]


def test_a_header_of_empty_columns_is_counted_before_it_is_split(
    client: TestClient[Any], admin: Caller
) -> None:
    job = run_import(client, admin, HEADER + "," * 1_000_000 + "\nh,T,V\n", "failed")

    assert job["result"]["errors"][0].startswith(f"{PARSING}the header has more")


def test_a_line_with_more_cells_than_the_cap_fails_naming_the_line(
    client: TestClient[Any], admin: Caller
) -> None:
    csv = f"{HEADER}\nh,T,V\nh2,T,V" + ",x" * 5000 + "\n"

    job = run_import(client, admin, csv, status="failed")

    assert job["result"]["errors"] == [
        (
            f"{PARSING}line 3 has more than {MAX_CELLS_PER_LINE} cells "
            "(the most a line of a product import file may have)"
        )
    ]


def test_delimiters_inside_quotes_are_not_cells(
    client: TestClient[Any], admin: Caller
) -> None:
    description = "," * (MAX_CELLS_PER_LINE + 10)
    csv = f'{HEADER},Product Description\nh,T,V,"{description}"\n'

    run_import(client, admin, csv)

    (product,) = list_products(client, admin)["products"]
    assert product["description"] == description


def test_the_report_stops_at_its_size_cap_and_says_so(
    client: TestClient[Any],
    runtime: Runtime,
    admin: Caller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(report_module, "MAX_REPORT_BYTES", 2_000)
    csv = f"{HEADER},Variant Inventory Quantity\n"
    csv += "".join(f"h{n},T,V,lots\n" for n in range(200))

    job = run_import(client, admin, csv, status="failed")

    text = report(runtime, job)
    assert len(text.encode()) < 2_000 + 200
    lines = text.split("\r\n")
    kept = len(lines) - 3  # the header, the closing note and ""
    assert 10 < kept < 200
    assert lines[-2] == (
        "The error report stops here: it reached its limit of 2000 bytes; "
        f"{200 - kept} more bad rows are not in it"
    )
    key = job["result"]["error_report_file_key"]
    assert job["result"]["errors"][-1] == (
        f"The error report {key} reached its limit of 2000 bytes: "
        f"{200 - kept} bad rows are not in it"
    )


@pytest.mark.parametrize(
    ("csv", "where"),
    [
        (f"{HEADER}\nh,T,V\nh2,Ti\x00tle,V\n", 'line 3, column "Product Title"'),
        (f'{HEADER}\nh,"T\nx",V\nh2,T,"V\x00"\n', 'line 4, column "Variant Title"'),
        (f"{HEADER},Bad\x00Name\nh,T,V,x\n", 'line 1, column "header cell 4"'),
        (f"{HEADER}\nh,T,V,\x00\n", 'line 2, column "__parsed_extra"'),
    ],
)
def test_a_nul_in_a_cell_fails_the_dry_run_naming_line_and_column(
    client: TestClient[Any], admin: Caller, csv: str, where: str
) -> None:
    job_id = start_import(client, admin, upload(client, admin, csv), dry_run=True)

    job = wait_for_status(client, admin, job_id)

    assert job["status"] == "failed"
    assert job["pre_processed_at"] is None
    assert job["result"]["errors"] == [
        (
            f"{PARSING}{where} holds a NUL character (U+0000), "
            "which a product import cannot store"
        )
    ]
    assert list_products(client, admin)["count"] == 0
