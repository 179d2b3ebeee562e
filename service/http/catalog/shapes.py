"""The catalog's response bodies, for the OpenAPI document (Medusa v1's shapes).

Handlers answer with the JSON documents the read model stores
(projections/catalog/documents.py), spliced rather than re-encoded; these Structs
describe those documents. `fields` and `expand` leave columns and relations out, so
every key but `id` may be absent. tests/api/catalog/test_openapi_shapes.py checks
real answers against the document.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar, Union

import msgspec
from msgspec import UNSET, UnsetType

T = TypeVar("T")
Maybe = Union[T, None, UnsetType]  # noqa: UP007 - a generic alias needs Union
Some = Union[T, UnsetType]  # noqa: UP007
Number = float  # JSON Schema `number`, integers included (msgspec takes ints too)
Timestamp = str  # ISO 8601, UTC
JsonObject = dict[str, Any]


class Entity(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    created_at: Some[Timestamp] = UNSET
    updated_at: Some[Timestamp] = UNSET
    deleted_at: Maybe[Timestamp] = UNSET
    metadata: Maybe[JsonObject] = UNSET


class ValueDocument(Entity, frozen=True, kw_only=True):
    """A product type or tag."""

    value: Some[str] = UNSET


class ImageDocument(Entity, frozen=True, kw_only=True):
    url: Some[str] = UNSET


class OptionValueDocument(Entity, frozen=True, kw_only=True):
    value: Some[str] = UNSET
    option_id: Some[str] = UNSET
    variant_id: Some[str] = UNSET


class ProductOptionDocument(Entity, frozen=True, kw_only=True):
    title: Some[str] = UNSET
    product_id: Some[str] = UNSET
    values: Some[list[OptionValueDocument]] = UNSET


class PriceDocument(Entity, frozen=True, kw_only=True):
    """`amount` in the currency's minor units."""

    currency_code: Maybe[str] = UNSET
    amount: Some[int] = UNSET
    min_quantity: Maybe[Number] = UNSET
    max_quantity: Maybe[Number] = UNSET
    price_list_id: Maybe[str] = UNSET
    region_id: Maybe[str] = UNSET
    price_list: Maybe[JsonObject] = UNSET
    variant_id: Some[str] = UNSET


class VariantDocument(Entity, frozen=True, kw_only=True):
    title: Maybe[str] = UNSET
    product_id: Some[str] = UNSET
    sku: Maybe[str] = UNSET
    barcode: Maybe[str] = UNSET
    ean: Maybe[str] = UNSET
    upc: Maybe[str] = UNSET
    variant_rank: Maybe[int] = UNSET
    inventory_quantity: Maybe[Number] = UNSET
    allow_backorder: Maybe[bool] = UNSET
    manage_inventory: Maybe[bool] = UNSET
    hs_code: Maybe[str] = UNSET
    origin_country: Maybe[str] = UNSET
    mid_code: Maybe[str] = UNSET
    material: Maybe[str] = UNSET
    weight: Maybe[Number] = UNSET
    length: Maybe[Number] = UNSET
    height: Maybe[Number] = UNSET
    width: Maybe[Number] = UNSET
    options: Some[list[OptionValueDocument]] = UNSET
    prices: Some[list[PriceDocument]] = UNSET
    # Medusa's pricing fields: null without a region or cart to price for.
    original_price: Maybe[Number] = UNSET
    calculated_price: Maybe[Number] = UNSET
    original_price_incl_tax: Maybe[Number] = UNSET
    calculated_price_incl_tax: Maybe[Number] = UNSET
    original_tax: Maybe[Number] = UNSET
    calculated_tax: Maybe[Number] = UNSET
    tax_rates: Maybe[list[JsonObject]] = UNSET


class CollectionDocument(Entity, frozen=True, kw_only=True):
    title: Some[str] = UNSET
    handle: Some[str] = UNSET
    products: Some[list[ProductDocument]] = UNSET  # GET by id and list only


class SalesChannelDocument(Entity, frozen=True, kw_only=True):
    name: Some[str] = UNSET
    description: Maybe[str] = UNSET
    is_disabled: Some[bool] = UNSET
    locations: Some[list[JsonObject]] = UNSET  # `expand=locations`: always empty


class ShippingProfileDocument(Entity, frozen=True, kw_only=True):
    name: Some[str] = UNSET
    type: Some[Literal["default", "gift_card", "custom"]] = UNSET
    products: Some[list[ProductDocument]] = UNSET  # GET by id only
    shipping_options: Some[list[JsonObject]] = UNSET  # GET by id only: empty


class CategoryDocument(Entity, frozen=True, kw_only=True):
    name: Some[str] = UNSET
    description: Maybe[str] = UNSET
    handle: Some[str] = UNSET
    is_active: Some[bool] = UNSET
    is_internal: Some[bool] = UNSET
    parent_category_id: Maybe[str] = UNSET
    rank: Some[int] = UNSET
    parent_category: Maybe[CategoryDocument] = UNSET
    category_children: Some[list[CategoryDocument]] = UNSET


class ProductDocument(Entity, frozen=True, kw_only=True):
    """A product with Medusa's default relations (`expand` chooses them)."""

    title: Some[str] = UNSET
    subtitle: Maybe[str] = UNSET
    description: Maybe[str] = UNSET
    handle: Maybe[str] = UNSET
    is_giftcard: Some[bool] = UNSET
    status: Some[Literal["draft", "proposed", "published", "rejected"]] = UNSET
    thumbnail: Maybe[str] = UNSET
    weight: Maybe[Number] = UNSET
    length: Maybe[Number] = UNSET
    height: Maybe[Number] = UNSET
    width: Maybe[Number] = UNSET
    hs_code: Maybe[str] = UNSET
    origin_country: Maybe[str] = UNSET
    mid_code: Maybe[str] = UNSET
    material: Maybe[str] = UNSET
    collection_id: Maybe[str] = UNSET
    type_id: Maybe[str] = UNSET
    discountable: Some[bool] = UNSET
    external_id: Maybe[str] = UNSET
    categories: Some[list[CategoryDocument]] = UNSET
    collection: Maybe[CollectionDocument] = UNSET
    images: Some[list[ImageDocument]] = UNSET
    options: Some[list[ProductOptionDocument]] = UNSET
    profiles: Some[list[ShippingProfileDocument]] = UNSET
    profile: Maybe[ShippingProfileDocument] = UNSET
    profile_id: Maybe[str] = UNSET
    sales_channels: Some[list[SalesChannelDocument]] = UNSET
    tags: Some[list[ValueDocument]] = UNSET
    type: Maybe[ValueDocument] = UNSET
    variants: Some[list[VariantDocument]] = UNSET


class CountryDocument(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    iso_2: str
    iso_3: str
    num_code: int
    name: str
    display_name: str
    region_id: str


class CurrencyDocument(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    symbol: str
    symbol_native: str
    name: str


class ProviderDocument(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    is_installed: bool


class RegionDocument(Entity, frozen=True, kw_only=True):
    name: Some[str] = UNSET
    currency_code: Some[str] = UNSET
    tax_rate: Some[Number] = UNSET
    tax_code: Maybe[str] = UNSET
    gift_cards_taxable: Some[bool] = UNSET
    automatic_taxes: Some[bool] = UNSET
    tax_provider_id: Maybe[str] = UNSET
    countries: Some[list[CountryDocument]] = UNSET
    currency: Some[CurrencyDocument] = UNSET
    fulfillment_providers: Some[list[ProviderDocument]] = UNSET
    payment_providers: Some[list[ProviderDocument]] = UNSET


class Page(msgspec.Struct, frozen=True, kw_only=True):
    count: int
    offset: int
    limit: int


class ProductResponse(msgspec.Struct, frozen=True):
    product: ProductDocument


class ProductListResponse(Page, frozen=True, kw_only=True):
    products: list[ProductDocument]


class DeletedResponse(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    object: str
    deleted: bool


class RegionResponse(msgspec.Struct, frozen=True):
    region: RegionDocument


class RegionListResponse(Page, frozen=True, kw_only=True):
    regions: list[RegionDocument]


class CollectionResponse(msgspec.Struct, frozen=True):
    collection: CollectionDocument


class CollectionListResponse(Page, frozen=True, kw_only=True):
    collections: list[CollectionDocument]


class SalesChannelResponse(msgspec.Struct, frozen=True):
    sales_channel: SalesChannelDocument


class SalesChannelListResponse(Page, frozen=True, kw_only=True):
    sales_channels: list[SalesChannelDocument]


class ProductCategoryResponse(msgspec.Struct, frozen=True):
    product_category: CategoryDocument


class ProductCategoryListResponse(Page, frozen=True, kw_only=True):
    product_categories: list[CategoryDocument]


class ShippingProfileResponse(msgspec.Struct, frozen=True):
    shipping_profile: ShippingProfileDocument


class ShippingProfileListResponse(msgspec.Struct, frozen=True):
    shipping_profiles: list[ShippingProfileDocument]
