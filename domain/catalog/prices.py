"""Variant prices: by currency or by region, integer minor units, merged on update."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import ids
from domain.catalog.geography import CURRENCIES
from domain.errors import InvalidDataError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from domain.catalog.base import JsonObject

# Medusa re-throws every variant error with its failed compensation's message appended.
VARIANT_ERROR_SUFFIX = "\nCannot read properties of undefined (reading 'length')"
XOR_MESSAGE = (
    'Failed XOR relation between "region_id" and "currency_code"., '
    'Failed XOR relation between "currency_code" and "region_id".'
)


def variant_error(message: str) -> InvalidDataError:
    return InvalidDataError(message + VARIANT_ERROR_SUFFIX)


def _key(price: JsonObject) -> tuple[str, str]:
    if price.get("region_id"):
        return ("region", str(price["region_id"]))
    return ("currency", str(price["currency_code"]))


def normalized(price: JsonObject, regions: Mapping[str, str]) -> JsonObject:
    """A stored price: a region price takes its region's currency and no quantities.

    `regions` maps region ids to their currency codes (the caller looks them up).
    """
    region_id = price.get("region_id")
    if region_id:
        if region_id not in regions:
            raise variant_error(f"Region with {region_id} was not found")
        return {
            "currency_code": regions[region_id], "amount": price["amount"],
            "min_quantity": None, "max_quantity": None, "region_id": region_id,
        }  # fmt: skip
    code = price.get("currency_code")
    if not isinstance(code, str):
        raise InvalidDataError(XOR_MESSAGE)
    if code.lower() not in CURRENCIES:
        raise variant_error(
            'insert or update on table "money_amount" violates foreign key '
            'constraint "FK_e15811f81339e4bd8c440aebe1c"'
        )
    return {
        "currency_code": code.lower(), "amount": price["amount"],
        "min_quantity": price.get("min_quantity"),
        "max_quantity": price.get("max_quantity"), "region_id": None,
    }  # fmt: skip


def new_prices(
    incoming: list[JsonObject], regions: Mapping[str, str]
) -> list[JsonObject]:
    return [{"id": ids.new_id("ma"), **normalized(p, regions)} for p in incoming]


def merged_prices(
    existing: list[JsonObject], incoming: list[JsonObject], regions: Mapping[str, str]
) -> list[JsonObject]:
    """The new list: matched by currency (or region), not by id; the rest dropped."""
    unmatched = list(existing)
    merged: list[JsonObject] = []
    for price in incoming:
        stored = normalized(price, regions)
        match = next((p for p in unmatched if _key(p) == _key(stored)), None)
        if match is None:
            merged.append({"id": ids.new_id("ma"), **stored})
            continue
        unmatched.remove(match)
        merged.append({**match, **stored})
    return merged
