"""What processing would refuse, found while planning: a sketch of the catalog as it grows.

Processing applies each row to the catalog and fails on the first row the catalog
refuses. A dry run must show those refusals, with their line, before anyone
confirms. So the planner keeps, per handle, the product's option titles and its
variants' option values and ids (from the catalog, then from the rows before), and
the SKUs and handles taken, and checks each row as processing would, with the
messages processing gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from domain.catalog import claims
from domain.catalog.geography import CURRENCIES
from domain.catalog.prices import variant_error

if TYPE_CHECKING:
    from collections.abc import Iterable

STATUSES = ("draft", "proposed", "published", "rejected")
BAD_STATUS = f"status must be one of {', '.join(STATUSES)}"


@dataclass
class ProductShape:
    """What the checks need of a product: option titles, variants' ids, SKUs and values."""

    id: str
    handle: str
    options: list[str]
    # variant id -> {option title: value}
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)
    skus: dict[str, str] = field(default_factory=dict)  # sku -> variant id


def bad_status(status: object) -> str | None:
    if status is not None and status not in STATUSES:
        return BAD_STATUS
    return None


def bad_currency(prices: Iterable[dict[str, Any]]) -> str | None:
    """Processing's error for a price in a currency the store does not know."""
    for price in prices:
        code = price.get("currency_code")
        if "region_id" not in price and str(code).lower() not in CURRENCIES:
            return str(variant_error(_FK_MONEY))
    return None


_FK_MONEY = (
    'insert or update on table "money_amount" violates foreign key '
    'constraint "FK_e15811f81339e4bd8c440aebe1c"'
)


def taken_handle(handle: str) -> str:
    return str(
        claims.duplicate_error(claims.claim_key(claims.PRODUCT_HANDLE, handle), None)
    )


def taken_sku(sku: str) -> str:
    return str(claims.duplicate_error(claims.claim_key(claims.VARIANT_SKU, sku), None))


def option_problem(
    shape: ProductShape, values: dict[str, Any], title: str, *, create: bool
) -> str | None:
    """Processing's first refusal of a variant's option values (titles -> values)."""
    for name in values:
        if name not in shape.options:
            return f"Product option with title {name} was not found"
    if not create:
        return None
    for name in shape.options:
        if name not in values:
            return str(
                variant_error(f"Variant options do not contain value for {name}")
            )
    wanted = set(values.items())
    for existing in shape.variants.values():
        if wanted and set(existing.items()) == wanted:
            return str(
                variant_error(
                    f"Variant with title {title} with provided options already exists"
                )
            )
    return None
