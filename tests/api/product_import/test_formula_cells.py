"""Export cells are safe in a spreadsheet and still import back unchanged."""

from __future__ import annotations

import csv
import io
from typing import Any

from litestar.testing import TestClient

from service.runtime import Runtime
from tests.api.catalog.support import created, post
from tests.api.product_import.support import list_products, run_import
from tests.support import Caller, wait_for_status

FORMULA_FIRST = ("=", "+", "-", "@", "\t", "\r")
TITLES = [
    '=HYPERLINK("http://evil.example","x")', "+1", "-2", "@SUM(A1:A2)", "\tTabbed",
    "\rCarriage", "'=genuinely quoted", "''+twice", "'plain quote",
    "Bare\rreturn;=1", "plain",
]  # fmt: skip


def without_times(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if k != "updated_at"}
    if isinstance(value, list):
        return [without_times(v) for v in value]
    return value


def test_formula_cells_are_guarded_and_round_trip(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    for n, title in enumerate(TITLES):
        created(client, admin, "/admin/products", {
            "title": title, "handle": f"p{n}", "description": f"-desc\r{n}",
            "tags": [{"value": "=tag"}, {"value": "b"}], "options": [{"title": "@opt"}],
            "variants": [{
                "title": f"+v{n}", "sku": f"sku-{n}", "material": "\tcotton",
                "prices": [{"currency_code": "usd", "amount": -150}],
                "options": [{"value": "-1"}],
            }],
        }, "product")  # fmt: skip
    before = without_times(list_products(client, admin))
    export = post(client, admin, "/admin/batch-jobs", {"type": "product-export",
                                                        "context": {}})  # fmt: skip
    job = wait_for_status(client, admin, export.json()["batch_job"]["id"], timeout=30)
    with runtime.files.open_reader(job["result"]["file_key"]) as reader:
        raw = b"".join(reader.chunks())

    # The bytes: guarded, quoted where a `\r` or `;` would break the row.
    assert b"'=HYPERLINK(" in raw
    assert b';"\'\rCarriage";' in raw
    assert b";''=genuinely quoted;" in raw
    assert b";'''+twice;" in raw
    assert b";'plain quote;" in raw  # no formula after it: as it is
    assert b';"Bare\rreturn;=1";' in raw
    assert b';"\'=tag,b";' in raw
    assert b";'-1;" in raw  # an option value is text
    assert b";-1.5;" in raw  # a price is a number: never guarded
    # What a spreadsheet reads: one row per variant, no cell a formula.
    rows = list(csv.reader(io.StringIO(raw.decode(), newline=""), delimiter=";"))
    header, data = rows[0], [r for r in rows[1:] if r]
    assert len(data) == len(TITLES)
    assert all(len(row) == len(header) for row in data)
    numbers = {header.index("Price USD")}
    assert [
        (name, cell) for row in data for i, (name, cell) in enumerate(zip(header, row, strict=True))
        if i not in numbers and cell.startswith(FORMULA_FIRST)
    ] == []  # fmt: skip

    imported = run_import(client, admin, raw)

    assert imported["result"]["operations"]["PRODUCT_UPDATE"] == len(TITLES)
    assert without_times(list_products(client, admin)) == before
    titles = {p["title"] for p in list_products(client, admin, "?limit=50")["products"]}
    assert titles == set(TITLES)
