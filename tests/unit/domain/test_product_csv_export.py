"""The export's CSV layout: Medusa's header snapshot, cells, prices, quoting."""

from __future__ import annotations

from typing import Any

import pytest

from domain.product_csv.cells import (
    escape,
    guarded,
    humanize_amount,
    js_text,
    text_cell,
    unguarded,
)
from domain.product_csv.export_format import ExportLayout, ExportShape, Region

STATIC_HEADER = (
    "Product Id;Product Handle;Product Title;Product Subtitle;Product Description;"
    "Product Status;Product Thumbnail;Product Weight;Product Length;Product Width;"
    "Product Height;Product HS Code;Product Origin Country;Product MID Code;"
    "Product Material;Product Collection Title;Product Collection Handle;Product Type;"
    "Product Tags;Product Discountable;Product External Id;Product Profile Name;"
    "Product Profile Type;Variant Id;Variant Title;Variant SKU;Variant Barcode;"
    "Variant Inventory Quantity;Variant Allow Backorder;Variant Manage Inventory;"
    "Variant Weight;Variant Length;Variant Width;Variant Height;Variant HS Code;"
    "Variant Origin Country;Variant MID Code;Variant Material"
)
FRANCE = {"currency_code": "usd", "name": "france", "id": "reg_france"}
DENMARK_LOWER = {"currency_code": "dkk", "name": "denmark", "id": "reg_denmark_1"}
DENMARK = {"currency_code": "dkk", "name": "Denmark", "id": "reg_denmark_2"}
# The fixture of Medusa's snapshot: region prices without a currency of their own.
SNAPSHOT_SHAPE = ExportShape(
    option_count=2,
    image_count=1,
    prices=[
        {"currency_code": None, "region": FRANCE},
        {"currency_code": "usd", "region": None},
        {"currency_code": None, "region": DENMARK_LOWER},
        {"currency_code": None, "region": DENMARK},
    ],
)


def snapshot_product() -> dict[str, Any]:
    return {
        "id": "product-export-strategy-product-2",
        "handle": "test-product-product-2",
        "title": "Test product",
        "subtitle": None,
        "description": "test-product-description",
        "status": "draft",
        "collection": {"title": "Test collection", "handle": "test-collection2"},
        "type": {"value": "test-type"},
        "tags": [{"value": "123"}],
        "discountable": True,
        "profile": {"name": "profile_2", "type": "profile_type_2"},
        "options": [{"id": "opt_1", "title": "test-option"}],
        "images": [{"url": "test-image.png"}],
        "variants": [
            {
                "id": "product-export-strategy-variant-2",
                "title": "Test variant",
                "sku": "test-sku",
                "barcode": "test-barcode",
                "inventory_quantity": 10,
                "allow_backorder": False,
                "manage_inventory": True,
                "prices": [
                    {
                        "currency_code": "dkk",
                        "amount": 110,
                        "region_id": "reg_denmark_2",
                    }
                ],
                "options": [{"option_id": "opt_1", "value": "Option 1 value 1"}],
            }
        ],
    }


def test_the_header_is_medusas_snapshot() -> None:
    header = ExportLayout(SNAPSHOT_SHAPE).header()

    assert header == (
        STATIC_HEADER + ";Price france [USD];Price USD;Price denmark [DKK];"
        "Price Denmark [DKK];Option 1 Name;Option 1 Value;Option 2 Name;"
        "Option 2 Value;Image 1 Url\r\n"
    )


def test_a_variant_line_is_medusas_snapshot_row() -> None:
    (line,) = ExportLayout(SNAPSHOT_SHAPE).lines(snapshot_product())

    assert line == (
        "product-export-strategy-product-2;test-product-product-2;Test product;;"
        "test-product-description;draft;;;;;;;;;;Test collection;test-collection2;"
        "test-type;123;true;;profile_2;profile_type_2;product-export-strategy-variant-2;"
        "Test variant;test-sku;test-barcode;10;false;true;;;;;;;;;;;;1.1;test-option;"
        "Option 1 value 1;;;test-image.png\r\n"
    )


def test_a_region_price_with_a_currency_gives_both_columns_and_channels_their_ids() -> (
    None
):
    regions = {"reg_fr": Region("reg_fr", "France", "eur")}
    product = {
        "id": "prod_1", "options": [], "images": [],
        "sales_channels": [{"id": "sc_1", "name": "Web", "description": "the shop"}],
        "variants": [
            {"id": "v1", "prices": [
                {"currency_code": "eur", "amount": 1250, "region_id": "reg_fr"},
            ]},
            {"id": "v2", "prices": [{"currency_code": "jpy", "amount": 1500}]},
        ],
    }  # fmt: skip
    shape = ExportShape()
    shape.add(product, regions)
    layout = ExportLayout(shape)

    assert layout.columns[38:] == [
        "Price EUR", "Price France [EUR]", "Price JPY", "Sales Channel 1 Id",
        "Sales Channel 1 Name", "Sales Channel 1 Description",
    ]  # fmt: skip
    first, second = (
        line.rstrip("\r\n").split(";")[38:] for line in layout.lines(product)
    )
    assert first == ["12.5", "12.5", "", "sc_1", "Web", "the shop"]
    assert second == ["", "", "1500", "sc_1", "Web", "the shop"]


def test_option_values_follow_the_products_options_not_the_variants_order() -> None:
    product = {
        "options": [{"id": "o_size", "title": "Size"}, {"id": "o_color", "title": "Color"}],
        "variants": [
            {"options": [
                {"option_id": "o_color", "value": "green"},
                {"option_id": "o_size", "value": "L"},
            ]},
        ],
    }  # fmt: skip
    layout = ExportLayout(ExportShape(option_count=2))

    (line,) = layout.lines(product)

    assert line.rstrip("\r\n").split(";")[38:] == ["Size", "L", "Color", "green"]


def test_a_product_without_variants_writes_no_line() -> None:
    assert ExportLayout(ExportShape()).lines({"id": "p", "variants": []}) == []


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (110, "eur", "1.1"), (100, "EUR", "1"), (1999, "usd", "19.99"), (5, "usd", "0.05"),
        (1500, "jpy", "1500"), (1500, "JPY", "1500"), (7, "krw", "7"), (0, "eur", ""),
    ],
)  # fmt: skip
def test_amounts_are_humanized_and_zero_is_empty(
    amount: int, currency: str, text: str
) -> None:
    assert humanize_amount(amount, currency) == text


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("plain", "plain"),
        ("a;b", '"a;b"'),
        ("a,b", '"a,b"'),
        ("line 1\nline 2", '"line 1\nline 2"'),
        ('say "hi", then', '"say ""hi"", then"'),
        # Medusa leaves these two raw: a lone `"` or `\r` then breaks the row.
        ('a "quote" alone', '"a ""quote"" alone"'),
        ("carriage\rreturn", '"carriage\rreturn"'),
    ],
)
def test_cells_are_quoted_when_they_need_it(cell: str, written: str) -> None:
    assert escape(cell) == written


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"), ("\rx", "'\rx"), ("'=x", "''=x"), ("''-x", "'''-x"),
        ("plain", "plain"), ("'quoted'", "'quoted'"), ("'", "'"), ("", ""),
        ("a=b", "a=b"),
    ],
)  # fmt: skip
def test_formula_leading_text_is_guarded_and_the_import_removes_exactly_that(
    text: str, written: str
) -> None:
    assert guarded(text) == written
    assert unguarded(written) == text


@pytest.mark.parametrize("value", [-1.5, -3, 0, True, None])
def test_numbers_and_booleans_are_never_guarded(value: object) -> None:
    assert not text_cell(value).startswith("'")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (10, "10"),
        (2.5, "2.5"),
        (3.0, "3"),
    ],
)
def test_values_are_written_as_javascript_writes_them(value: object, text: str) -> None:
    assert js_text(value) == text


def test_tags_join_with_commas_so_the_cell_is_quoted() -> None:
    product = {"tags": [{"value": "123"}, {"value": "456"}], "variants": [{"id": "v"}]}

    (line,) = ExportLayout(ExportShape()).lines(product)

    assert line.split(";")[18] == '"123,456"'
