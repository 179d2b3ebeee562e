"""jobstream_rows_imported_total: the CSV rows an import applied, once it committed."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.api.operator.metrics_text import scrape, value
from tests.api.product_import.support import run_import, start_import, upload
from tests.support import Caller, wait_for_status

METRIC = "jobstream_rows_imported_total"
CSV = (
    "Product Handle,Product Title,Variant Title,Variant SKU,Option 1 Name,"
    "Option 1 Value\n"
    "shirt,Shirt,Small,rows-s,Size,S\n"
    "shirt,Shirt,Medium,rows-m,Size,M\n"
    "cap,Cap,One,rows-cap,Size,One size\n"
)


def test_an_import_counts_its_rows_and_a_dry_run_counts_none(
    client: TestClient[Any], admin: Caller
) -> None:
    before = value(scrape(client, admin), METRIC, type="product-import")
    dry = start_import(client, admin, upload(client, admin, CSV), dry_run=True)
    wait_for_status(client, admin, dry, {"pre_processed"})
    assert value(scrape(client, admin), METRIC, type="product-import") == before

    run_import(client, admin, CSV)

    after = value(scrape(client, admin), METRIC, type="product-import")
    assert after - before == 3
