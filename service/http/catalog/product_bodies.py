"""Product bodies: AdminPostProductsReq and AdminPostProductsProductReq, in Medusa's order."""

from __future__ import annotations

from typing import Any, get_args

from domain.catalog.prices import XOR_MESSAGE, variant_error
from domain.errors import InvalidDataError
from service.http.catalog import bodies
from service.http.catalog.checks import Checks, nested_errors
from service.http.medusa_body import field_names

STATUSES: tuple[str, ...] = get_args(bodies.Status)
DIMENSIONS = ("weight", "length", "height", "width")
CUSTOMS = ("hs_code", "origin_country", "mid_code", "material")
# The allowed properties of each body: the fields of the Struct it decodes into.
CREATE_FIELDS = field_names(bodies.CreateProductRequest)
UPDATE_FIELDS = field_names(bodies.UpdateProductRequest)
VARIANT_FIELDS = field_names(bodies.CreateVariantRequest)
VARIANT_UPDATE_FIELDS = field_names(bodies.UpdateVariantRequest)


def _price_rules(*, with_id: bool) -> Any:
    def rules(checks: Checks) -> None:
        body = checks.body
        if with_id:
            checks.string("id")
        # Exactly one of region_id and currency_code (skipped for a price with an id).
        if not (with_id and body.get("id")) and (
            bool(body.get("region_id")) == bool(body.get("currency_code"))
        ):
            checks.errors.append(XOR_MESSAGE)
        checks.string("region_id")
        checks.string("currency_code")
        checks.integer("amount", required=True)
        checks.number("min_quantity")
        checks.number("max_quantity")

    return rules


def _value_rules(*, option_id: bool) -> Any:
    def rules(checks: Checks) -> None:
        if option_id:
            checks.string("option_id", required=True)
        checks.string("value", required=True)

    return rules


def _variant_rules(*, update: bool) -> Any:
    price_fields = field_names(bodies.PriceUpdate if update else bodies.PriceRequest)
    value_fields = field_names(
        bodies.OptionValueUpdate if update else bodies.OptionValueRequest
    )

    def rules(checks: Checks) -> None:
        if update:
            checks.string("id")
        checks.string("title", required=not update)
        for key in ("sku", "ean", "upc", "barcode", "hs_code"):
            checks.string(key)
        (checks.integer if update else checks.number)("inventory_quantity")
        checks.boolean("allow_backorder")
        checks.boolean("manage_inventory")
        for key in DIMENSIONS:
            checks.number(key)
        for key in ("origin_country", "mid_code", "material"):
            checks.string(key)
        checks.obj("metadata")
        checks.nested(
            "prices",
            lambda p: nested_errors(p, price_fields, _price_rules(with_id=update)),
            required=not update,
        )
        checks.nested(
            "options",
            lambda v: nested_errors(v, value_fields, _value_rules(option_id=update)),
        )

    return rules


def _shared_value(checks: Checks) -> None:
    checks.string("id")
    checks.string("value", required=True)


def _value_entry(checks: Checks, key: str, *, many: bool) -> None:
    checks.nested(
        key,
        lambda item: nested_errors(
            item, field_names(bodies.ValueRequest), _shared_value
        ),
        many=many,
    )


def _ids(checks: Checks, key: str) -> None:
    checks.nested(
        key,
        lambda item: nested_errors(
            item, field_names(bodies.IdRequest), lambda c: c.string("id", required=True)
        ),
    )


def validate_create(body: dict[str, Any]) -> dict[str, Any]:
    """The body, checked; 400 with every message otherwise."""
    checks = Checks(body, CREATE_FIELDS)
    checks.string("title", required=True)
    checks.string("subtitle")
    checks.string("description")
    if "is_giftcard" in body:
        checks.boolean("is_giftcard", required=True)  # null is refused
    checks.boolean("discountable")
    _common(checks)
    checks.nested(
        "options",
        lambda o: nested_errors(
            o,
            field_names(bodies.ProductOptionRequest),
            lambda c: c.string("title", required=True),
        ),
    )
    checks.nested(
        "variants",
        lambda v: nested_errors(v, VARIANT_FIELDS, _variant_rules(update=False)),
    )
    _columns(checks)
    checks.raise_if_any()
    return body


def validate_update(body: dict[str, Any]) -> dict[str, Any]:
    checks = Checks(body, UPDATE_FIELDS)
    checks.string("title")
    checks.string("subtitle")
    checks.string("description")
    checks.boolean("discountable")
    _common(checks, update=True)
    checks.nested(
        "variants",
        lambda v: nested_errors(v, VARIANT_UPDATE_FIELDS, _variant_rules(update=True)),
    )
    _columns(checks)
    checks.raise_if_any()
    if "title" in body and body["title"] is None:
        # @IsOptional lets null through; product.title is NOT NULL (PostgreSQL's
        # 23502, as Medusa's error handler words it). A null title wedged the catalog.
        raise InvalidDataError(
            "Can't insert null value in field title on insert in table product"
        )
    for variant in body.get("variants") or []:
        if not variant.get("id") and "inventory_quantity" not in variant:
            raise variant_error(
                'null value in column "inventory_quantity" of relation '
                '"product_variant" violates not-null constraint'
            )
    return body


def _common(checks: Checks, *, update: bool = False) -> None:
    checks.strings("images")
    checks.string("thumbnail")
    checks.string("handle")
    checks.one_of("status", STATUSES, not_null=update)
    _value_entry(checks, "type", many=False)
    checks.string("collection_id")
    _value_entry(checks, "tags", many=True)
    _ids(checks, "sales_channels")
    _ids(checks, "categories")


def _columns(checks: Checks) -> None:
    for key in DIMENSIONS:
        checks.number(key)
    for key in CUSTOMS:
        checks.string(key)
    checks.obj("metadata")
