"""The import's parsing and plan: typed cells, columns, rows, instructions, preview."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.product_csv.cells import unquoted
from domain.product_csv.import_checks import ProductShape
from domain.product_csv.import_columns import resolve, suggestion, typed
from domain.product_csv.import_plan import (
    ImportPlanner,
    computerize,
    drop_echoes,
    preview,
)
from domain.product_csv.import_rows import detect_delimiter, read_rows


class Catalog:
    """Lookups over fixed data (the ImportLookups protocol)."""

    def region(self, name: str) -> tuple[str, str] | None:
        return {"Denmark": ("reg_dk", "dkk"), "Japan": ("reg_jp", "jpy")}.get(name)

    def collection_id(self, handle: str) -> str | None:
        return {"summer": "pcol_1"}.get(handle)

    def category_id(self, handle: str) -> str | None:
        return {"shirts": "pcat_1"}.get(handle)

    def sales_channel_id(self, channel: Mapping[str, str]) -> str | None:
        known = {"sc_1": "sc_1", "Web": "sc_2"}
        return known.get(channel.get("id", "")) or known.get(channel.get("name", ""))

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


def rows(text: str) -> list[dict[str, Any]]:
    header, parsed = read_rows(io.StringIO(text, newline=""))
    assert header is not None
    return [
        {"product": r.product, "variant": r.variant, "line": r.line} for r in parsed
    ]


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("", None), ("TRUE", True), ("true", True), ("FALSE", False), ("false", False),
        ("True", "True"), ("10", 10.0), ("-1.5", -1.5), (".5", 0.5), ("1e3", 1000.0),
        ("1.2.3", "1.2.3"), ("abc", "abc"),
        ("2024-01-02T03:04:05Z", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-02", "2024-01-02"),
    ],
)  # fmt: skip
def test_cells_are_typed_as_papa_parse_types_them(cell: str, value: object) -> None:
    assert typed(cell) == value


def test_the_delimiter_is_the_one_the_header_uses() -> None:
    assert detect_delimiter("Product Id;Product Handle;Product Title\r\n") == ";"
    assert detect_delimiter("Product Id,Product Handle\n") == ","


def test_regex_columns_resolve_in_medusas_order() -> None:
    region = resolve("Price Denmark [DKK]")
    assert region is not None
    assert (region.role, region.region_name) == ("region_price", "Denmark")
    currency = resolve("Price USD")
    assert currency is not None
    assert (currency.role, currency.currency) == ("currency_price", "USD")
    option = resolve("Option 2 Value")
    assert option is not None
    assert (option.role, option.index) == ("option_value", 2)
    assert resolve("Product Profile Name") is not None
    assert resolve("Colour") is None


def test_a_near_miss_suggests_the_column_meant() -> None:
    assert suggestion("Product Handel") == "Product Handle"
    assert suggestion("Varient SKU") == "Variant SKU"
    assert suggestion("Something else entirely") is None


def test_rows_keep_quoted_delimiters_and_newlines_and_skip_blank_lines() -> None:
    text = (
        "\ufeffProduct Handle;Product Description;Option 1 Name;Option 1 Value\r\n"
        'a;"one; two\r\nthree";Size;L\r\n'
        "\r\n"
        "b;;Size;M\r\n"
    )

    parsed = rows(text)

    assert [r["line"] for r in parsed] == [2, 5]
    assert parsed[0]["product"] == {
        "handle": "a", "description": "one; two\r\nthree", "options": [
            {"title": "Size", "index": 1}
        ],
    }  # fmt: skip
    assert parsed[0]["variant"] == {"options": [{"value": "L", "title": "Size"}]}
    assert parsed[1]["product"]["description"] is None


def test_an_empty_file_has_no_header() -> None:
    header, parsed = read_rows(io.StringIO("\n\n"))
    assert header is None
    assert list(parsed) == []


def test_amounts_become_minor_units_except_for_zero_decimal_currencies() -> None:
    assert computerize(1.1, "usd") == 110
    assert computerize(0.29, "eur") == 29
    assert computerize(1.005, "usd") == 100  # 100.49999…, as Math.round gives
    assert computerize(1200, "JPY") == 1200
    assert computerize(15, "krw") == 15


def test_instructions_count_products_by_first_row_per_handle() -> None:
    text = (
        "Product Id,Product Handle,Product Title,Product Collection Handle,"
        "Product Tags,Variant Id,Variant Title,Price Denmark [DKK],Price JPY,"
        "Sales Channel 1 Id,Sales Channel 1 Name,Product Category 1 Handle\n"
        ',new,New,summer,"a,b",,One,1.25,1200,,Web,shirts\n'
        ",new,New,,,,Two,,,,,\n"
        "prod_1,old,Old,,,variant_1,Three,,,sc_1,,\n"
    )
    _, parsed = read_rows(io.StringIO(text, newline=""))
    planner = ImportPlanner(Catalog())

    first, second, third = (planner.plan(row) for row in parsed)

    assert (first["product_op"], first["variant_op"]) == (
        "PRODUCT_CREATE", "VARIANT_CREATE",
    )  # fmt: skip
    assert first["product"] == {
        "title": "New", "handle": "new", "collection_id": "pcol_1",
        "tags": [{"value": "a"}, {"value": "b"}], "sales_channels": [{"id": "sc_2"}],
        "categories": [{"id": "pcat_1"}],
    }  # fmt: skip
    assert first["variant"]["prices"] == [
        {"region_id": "reg_dk", "amount": 125, "currency_code": "dkk"},
        {"currency_code": "jpy", "amount": 1200},
    ]
    assert second["product_op"] is None
    assert (third["product_op"], third["variant_op"]) == (
        "PRODUCT_UPDATE", "VARIANT_UPDATE",
    )  # fmt: skip
    assert third["product"]["sales_channels"] == [{"id": "sc_1"}]
    assert preview(planner.operations)["operations"] == {
        "PRODUCT_CREATE": 1, "VARIANT_CREATE": 2, "PRODUCT_UPDATE": 1,
        "VARIANT_UPDATE": 1,
    }  # fmt: skip


def test_the_preview_message_is_medusas_to_the_space() -> None:
    result = preview(
        {"PRODUCT_CREATE": 2, "VARIANT_CREATE": 4, "PRODUCT_UPDATE": 1,
         "VARIANT_UPDATE": 1}
    )  # fmt: skip

    assert result["count"] == 8
    assert result["advancement_count"] == 0
    assert result["stat_descriptors"] == [
        {
            "key": "product-import-count",
            "name": "Products/variants to import",
            "message": "There will be 2 products created (1  updated).\n"
            "             4 variants will be created and 1 updated",
        }
    ]


def test_an_exports_echo_of_a_region_price_is_dropped_unless_the_variant_has_one() -> (
    None
):
    prices = [
        {"region_id": "reg_dk", "amount": 900, "currency_code": "dkk"},
        {"currency_code": "dkk", "amount": 900, "echo": True},
        {"currency_code": "usd", "amount": 100},
    ]

    assert drop_echoes(prices, set()) == [prices[0], prices[2]]
    assert drop_echoes(prices, {"dkk"})[1] == {"currency_code": "dkk", "amount": 900}


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ('"Quoted" title', 'Quoted" titl'),  # first and last go, whatever they are
        ('"x"', "x"),
        ('""', ""),
        ('"', '"'),  # JavaScript's substring(1, 0) is substring(0, 1)
        ('He said "hi"', 'He said "hi"'),
        (None, None),
        (3.5, 3.5),
    ],
)
def test_a_text_starting_with_a_quote_loses_its_ends_as_in_medusa(
    cell: object, value: object
) -> None:
    assert unquoted(cell) == value
