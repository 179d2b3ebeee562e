"""jobstream_rows_exported_total: the CSV lines an export wrote, once its file is there."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from service.runtime import Runtime
from tests.api.operator.metrics_text import scrape, value
from tests.api.product_export.test_product_export import (
    collection,
    data_lines,
    export_product,
    exported,
    run_export,
)
from tests.support import Caller

METRIC = "jobstream_rows_exported_total"


def variant(size: str) -> dict[str, Any]:
    options = [{"value": size.lower()}, {"value": "red"}]
    return {"title": size, "sku": f"rows-{size}", "prices": [], "options": options}


def test_an_export_counts_the_rows_it_wrote(
    client: TestClient[Any], admin: Caller, runtime: Runtime
) -> None:
    summer = collection(client, admin, "summer")
    export_product(client, admin, summer)
    export_product(
        client,
        admin,
        summer,
        title="Two variants",
        variants=[variant("S"), variant("M")],
    )
    before = value(scrape(client, admin), METRIC, type="product-export")

    job = run_export(client, admin, {})

    lines = data_lines(exported(runtime, job))
    assert len(lines) == 3  # one a variant
    after = value(scrape(client, admin), METRIC, type="product-export")
    assert after - before == 3
