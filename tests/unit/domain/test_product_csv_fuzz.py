"""A fuzz of the import's parser and planner: any file ends in a plan or a clean refusal.

A clean refusal is an InvalidDataError (the job fails with its message). Anything
else would fail the job with an internal error, or worse, let a bad row through.
Bounded for CI: a fixed number of examples, a deadline, and derandomized (the same
examples on every run), with no example database written.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from datetime import timedelta

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import InvalidDataError
from domain.product_csv.import_checks import ProductShape
from domain.product_csv.import_plan import ImportPlanner, preview
from domain.product_csv.import_rows import read_rows


class Catalog:
    """A small catalog for the planner's lookups (the ImportLookups protocol)."""

    def region(self, name: str) -> tuple[str, str] | None:
        return {"Denmark": ("reg_dk", "dkk"), "Japan": ("reg_jp", "jpy")}.get(name)

    def collection_id(self, handle: str) -> str | None:
        return {"summer": "pcol_1"}.get(handle)

    def category_id(self, handle: str) -> str | None:
        return {"shirts": "pcat_1"}.get(handle)

    def sales_channel_id(self, channel: Mapping[str, str]) -> str | None:
        return {"sc_1": "sc_1", "Web": "sc_1"}.get(channel.get("id") or "")

    def product(self, product_id: str) -> ProductShape | None:
        shirt = ProductShape(
            "prod_1", "shirt", ["Size"], {"var_1": {"Size": "S"}}, {"shirt-s": "var_1"}
        )
        return {"prod_1": shirt}.get(product_id)

    def product_id_by_handle(self, handle: str) -> str | None:
        return {"shirt": "prod_1"}.get(handle)

    def sku_owner(self, sku: str) -> str | None:
        return {"shirt-s": "prod_1"}.get(sku)

    def prefetch(self, *_: Iterable[str]) -> None:
        """Nothing to read ahead."""


COLUMNS = [
    "Product Id", "Product Handle", "Product Title", "Product Status",
    "Product Description", "Product Weight", "Product Discountable", "Product Tags",
    "Product Type", "Product Collection Handle", "Product Profile Name", "Variant Id",
    "Variant Title", "Variant SKU", "Variant Inventory Quantity",
    "Variant Allow Backorder", "Variant Weight", "Option 1 Name", "Option 1 Value",
    "Option 2 Name", "Option 2 Value", "Option 12 Value", "Price USD", "Price XTS",
    "Price Denmark [DKK]", "Price Atlantis [EUR]", "Price [ABC]", "Image 1 Url",
    "Sales Channel 1 Id", "Sales Channel 1 Name", "Sales Channel 2 Description",
    "Product Category 1 Handle", "Product Category 1 Name", "Product Handel", "",
]  # fmt: skip
CELLS = [
    "", "prod_1", "var_1", "shirt", "shirt-s", "S", "M", "Size", "draft", "bogus",
    "TRUE", "false", "1", "-1.5", "1.10", "1e999", "1e3", ".5", "NaN", "Infinity",
    "2024-01-02T03:04:05Z", "summer", "nowhere", "shirts", "sc_1", "Web", '"q"', '"',
    "'=x", "=1+1", "a,b", "a;b", "two\nlines", "cr\ronly", "\ufeff", "\x00", " ",
]  # fmt: skip
cell = st.one_of(st.sampled_from(CELLS), st.text(max_size=12))
column = st.one_of(st.sampled_from(COLUMNS), st.text(max_size=12))


@st.composite
def csv_files(draw: st.DrawFn) -> str:
    """A CSV: mostly well-formed, quoted or not, sometimes raw text."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=300))
    delimiter = draw(st.sampled_from([",", ";"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    header = draw(st.lists(column, min_size=1, max_size=12))
    rows = draw(st.lists(st.lists(cell, max_size=len(header) + 2), max_size=8))
    quote = draw(st.booleans())

    def line(cells: list[str]) -> str:
        if quote:
            cells = ['"' + c.replace('"', '""') + '"' for c in cells]
        return delimiter.join(cells)

    return newline.join(line(cells) for cells in [header, *rows]) + draw(
        st.sampled_from(["", newline, newline * 2])
    )


@settings(
    max_examples=200,
    deadline=timedelta(seconds=2),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(csv_files())
def test_any_file_is_planned_or_refused_cleanly(text: str) -> None:
    planner = ImportPlanner(Catalog())
    try:
        header, rows = read_rows(io.StringIO(text, newline=""))
        if header is None:
            return
        for problem in header.problems:
            assert problem.medusa
        parsed = list(rows)
        planner.prefetch(parsed)
        for row in parsed:
            instruction = planner.plan(row)
            encoded = msgspec.json.encode(instruction)  # as the strategy writes it
            assert b"\\u0000" not in encoded  # no store of the catalog takes a NUL
            for problem in row.problems:
                assert problem.medusa
                assert "\x00" not in problem.medusa
        msgspec.json.encode(preview(planner.operations))
    except InvalidDataError:
        return  # a clean job failure
