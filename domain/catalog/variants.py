"""Building and checking variants: columns, option values by position or option id."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import ids
from domain.catalog import prices
from domain.errors import InvalidDataError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from domain.catalog.base import JsonObject

# Medusa's product_variant columns, in the order its JSON lists them.
COLUMNS = (
    "title", "product_id", "sku", "barcode", "ean", "upc", "variant_rank",
    "inventory_quantity", "allow_backorder", "manage_inventory", "hs_code",
    "origin_country", "mid_code", "material", "weight", "length", "height", "width",
    "metadata",
)  # fmt: skip
DEFAULTS: JsonObject = {
    "inventory_quantity": 0, "allow_backorder": False, "manage_inventory": True,
}  # fmt: skip
SETTABLE = tuple(c for c in COLUMNS if c not in {"product_id", "variant_rank"})


def columns_of(data: JsonObject) -> JsonObject:
    return {column: data[column] for column in SETTABLE if column in data}


def build(
    data: JsonObject,
    *,
    product_id: str,
    rank: int,
    option_values: list[JsonObject],
    regions: Mapping[str, str],
) -> JsonObject:
    """A new variant: its columns with defaults, its option values and prices."""
    variant: JsonObject = {"id": ids.new_id("variant")}
    variant.update({column: DEFAULTS.get(column) for column in COLUMNS})
    variant.update(columns_of(data))
    variant.update(product_id=product_id, variant_rank=rank)
    variant["options"] = [
        {"id": ids.new_id("optval"), **value, "metadata": None}
        for value in option_values
    ]
    variant["prices"] = prices.new_prices(list(data.get("prices") or []), regions)
    return variant


def values_by_position(data: JsonObject, options: list[JsonObject]) -> list[JsonObject]:
    """Product create: `variants[i].options[j]` is the value of option j."""
    given = list(data.get("options") or [])
    if len(given) != len(options):
        raise prices.variant_error(
            "Product options length does not match variant options length. "
            f"Product has {len(options)} and variant has {len(given)}."
        )
    return [
        {"option_id": option["id"], "value": value["value"]}
        for option, value in zip(options, given, strict=True)
    ]


def values_by_option_id(
    data: JsonObject, options: list[JsonObject]
) -> list[JsonObject]:
    """Product update: each value names its `option_id`; every option needs one."""
    given = {v.get("option_id"): v.get("value") for v in data.get("options") or []}
    for option in options:
        if option["id"] not in given:
            raise prices.variant_error(
                f"Variant options do not contain value for {option['title']}"
            )
    return [{"option_id": o["id"], "value": given[o["id"]]} for o in options]


def check_not_duplicate(
    title: str, values: list[JsonObject], existing: list[JsonObject]
) -> None:
    wanted = {(v["option_id"], v["value"]) for v in values}
    for variant in existing:
        have = {(v["option_id"], v["value"]) for v in variant["options"]}
        if wanted and have == wanted:
            raise prices.variant_error(
                f"Variant with title {title} with provided options already exists"
            )


def updated_values(
    current: list[JsonObject], given: list[JsonObject]
) -> list[JsonObject]:
    """Option values after an update: a value given for an option replaces its text."""
    new_text = {v.get("option_id"): v.get("value") for v in given}
    unknown = [o for o in new_text if o not in {v["option_id"] for v in current}]
    if unknown:
        raise InvalidDataError(f"Option with id {unknown[0]} does not exist")
    return [
        {**value, "value": new_text.get(value["option_id"], value["value"])}
        for value in current
    ]
