"""The catalog's request bodies, field by field in Medusa's DTO order (v1 admin).

Each handler decodes its body into one of these (service.http.medusa_body), after
the checks in this package have given class-validator's messages; the checks take
their lists of allowed fields from here. Optional fields accept null (`@IsOptional`).
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar, Union

import msgspec
from msgspec import UNSET, UnsetType

T = TypeVar("T")
# Absent or null: what class-validator's @IsOptional lets through.
Maybe = Union[T, None, UnsetType]  # noqa: UP007 - a generic alias needs Union
Number = float  # JSON Schema `number`, integers included (msgspec takes ints too)
Status = Literal["draft", "proposed", "published", "rejected"]


class Body(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A request body: unknown properties are refused, as Medusa's whitelist does."""


class PriceRequest(Body, frozen=True, kw_only=True):
    """Exactly one of `region_id` and `currency_code`; `amount` in minor units."""

    region_id: Maybe[str] = UNSET
    currency_code: Maybe[str] = UNSET
    amount: Number
    min_quantity: Maybe[Number] = UNSET
    max_quantity: Maybe[Number] = UNSET


class PriceUpdate(Body, frozen=True, kw_only=True):
    """A price with `id` is updated (then neither region nor currency is needed)."""

    id: Maybe[str] = UNSET
    region_id: Maybe[str] = UNSET
    currency_code: Maybe[str] = UNSET
    amount: Number
    min_quantity: Maybe[Number] = UNSET
    max_quantity: Maybe[Number] = UNSET


class OptionValueRequest(Body, frozen=True, kw_only=True):
    """A variant's value for the product's option at the same position."""

    value: str


class OptionValueUpdate(Body, frozen=True, kw_only=True):
    option_id: str
    value: str


class CreateVariantRequest(Body, frozen=True, kw_only=True):
    title: str
    sku: Maybe[str] = UNSET
    ean: Maybe[str] = UNSET
    upc: Maybe[str] = UNSET
    barcode: Maybe[str] = UNSET
    hs_code: Maybe[str] = UNSET
    inventory_quantity: Maybe[Number] = UNSET
    allow_backorder: Maybe[bool] = UNSET
    manage_inventory: Maybe[bool] = UNSET
    weight: Maybe[Number] = UNSET
    length: Maybe[Number] = UNSET
    height: Maybe[Number] = UNSET
    width: Maybe[Number] = UNSET
    origin_country: Maybe[str] = UNSET
    mid_code: Maybe[str] = UNSET
    material: Maybe[str] = UNSET
    metadata: Maybe[dict[str, Any]] = UNSET
    prices: list[PriceRequest]
    options: Maybe[list[OptionValueRequest]] = UNSET


class UpdateVariantRequest(Body, frozen=True, kw_only=True):
    """With `id`: that variant is updated; without: a new one (`inventory_quantity`)."""

    id: Maybe[str] = UNSET
    title: Maybe[str] = UNSET
    sku: Maybe[str] = UNSET
    ean: Maybe[str] = UNSET
    upc: Maybe[str] = UNSET
    barcode: Maybe[str] = UNSET
    hs_code: Maybe[str] = UNSET
    inventory_quantity: Maybe[Number] = UNSET
    allow_backorder: Maybe[bool] = UNSET
    manage_inventory: Maybe[bool] = UNSET
    weight: Maybe[Number] = UNSET
    length: Maybe[Number] = UNSET
    height: Maybe[Number] = UNSET
    width: Maybe[Number] = UNSET
    origin_country: Maybe[str] = UNSET
    mid_code: Maybe[str] = UNSET
    material: Maybe[str] = UNSET
    metadata: Maybe[dict[str, Any]] = UNSET
    prices: Maybe[list[PriceUpdate]] = UNSET
    options: Maybe[list[OptionValueUpdate]] = UNSET


class ProductOptionRequest(Body, frozen=True, kw_only=True):
    title: str


class ValueRequest(Body, frozen=True, kw_only=True):
    """A product type or tag: an existing one by `id`, or a new `value`."""

    id: Maybe[str] = UNSET
    value: str


class IdRequest(Body, frozen=True, kw_only=True):
    id: str


class CreateProductRequest(Body, frozen=True, kw_only=True):
    """AdminPostProductsReq."""

    title: str
    subtitle: Maybe[str] = UNSET
    description: Maybe[str] = UNSET
    is_giftcard: bool | UnsetType = UNSET
    discountable: Maybe[bool] = UNSET
    images: Maybe[list[str]] = UNSET
    thumbnail: Maybe[str] = UNSET
    handle: Maybe[str] = UNSET
    status: Maybe[Status] = UNSET
    type: Maybe[ValueRequest] = UNSET
    collection_id: Maybe[str] = UNSET
    tags: Maybe[list[ValueRequest]] = UNSET
    sales_channels: Maybe[list[IdRequest]] = UNSET
    categories: Maybe[list[IdRequest]] = UNSET
    options: Maybe[list[ProductOptionRequest]] = UNSET
    variants: Maybe[list[CreateVariantRequest]] = UNSET
    weight: Maybe[Number] = UNSET
    length: Maybe[Number] = UNSET
    height: Maybe[Number] = UNSET
    width: Maybe[Number] = UNSET
    hs_code: Maybe[str] = UNSET
    origin_country: Maybe[str] = UNSET
    mid_code: Maybe[str] = UNSET
    material: Maybe[str] = UNSET
    metadata: Maybe[dict[str, Any]] = UNSET


class UpdateProductRequest(Body, frozen=True, kw_only=True):
    """AdminPostProductsProductReq; `variants`, when given, replace the product's."""

    title: Maybe[str] = UNSET
    subtitle: Maybe[str] = UNSET
    description: Maybe[str] = UNSET
    discountable: Maybe[bool] = UNSET
    images: Maybe[list[str]] = UNSET
    thumbnail: Maybe[str] = UNSET
    handle: Maybe[str] = UNSET
    status: Status | UnsetType = UNSET
    type: Maybe[ValueRequest] = UNSET
    collection_id: Maybe[str] = UNSET
    tags: Maybe[list[ValueRequest]] = UNSET
    sales_channels: Maybe[list[IdRequest]] = UNSET
    categories: Maybe[list[IdRequest]] = UNSET
    variants: Maybe[list[UpdateVariantRequest]] = UNSET
    weight: Maybe[Number] = UNSET
    length: Maybe[Number] = UNSET
    height: Maybe[Number] = UNSET
    width: Maybe[Number] = UNSET
    origin_country: Maybe[str] = UNSET
    hs_code: Maybe[str] = UNSET
    mid_code: Maybe[str] = UNSET
    material: Maybe[str] = UNSET
    metadata: Maybe[dict[str, Any]] = UNSET


class CreateRegionRequest(Body, frozen=True, kw_only=True):
    """AdminPostRegionsReq; countries and currencies by ISO code, providers by id."""

    name: str
    currency_code: str
    tax_rate: Number
    tax_code: Maybe[str] = UNSET
    payment_providers: list[str]
    fulfillment_providers: list[str]
    countries: list[str]
    metadata: Maybe[dict[str, Any]] = UNSET


class CreateCollectionRequest(Body, frozen=True, kw_only=True):
    """AdminPostCollectionsReq; the handle defaults to the kebab-cased title."""

    title: str
    handle: Maybe[str] = UNSET
    metadata: Maybe[dict[str, Any]] = UNSET


class CreateSalesChannelRequest(Body, frozen=True, kw_only=True):
    """AdminPostSalesChannelsReq."""

    name: str
    description: Maybe[str] = UNSET
    is_disabled: Maybe[bool] = UNSET


class CreateProductCategoryRequest(Body, frozen=True, kw_only=True):
    """AdminPostProductCategoriesReq; the string "null" counts as null."""

    name: str
    handle: Maybe[str] = UNSET
    description: Maybe[str] = UNSET
    is_active: Maybe[bool] = UNSET
    is_internal: Maybe[bool] = UNSET
    parent_category_id: Maybe[str] = UNSET
    metadata: Maybe[dict[str, Any]] = UNSET
