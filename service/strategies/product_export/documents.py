"""Product documents decoded only as far as the export reads them.

A stored product document is several KB (every relation with its timestamps); the
CSV needs a fraction. msgspec skips the rest without building it, several times
faster than decoding whole documents to dicts. The structs answer `.get(name)` like
the dicts the layout (domain.product_csv) is written for.
"""

from __future__ import annotations

from typing import Any

import msgspec


class Gettable(msgspec.Struct, frozen=True):
    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name, default)


class Named(Gettable, frozen=True):
    """A related record: collection, type, tag, image, profile, channel, category."""

    id: str | None = None
    title: str | None = None
    handle: str | None = None
    value: Any = None
    url: str | None = None
    name: str | None = None
    type: str | None = None
    description: str | None = None


class Price(Gettable, frozen=True):
    currency_code: str | None = None
    amount: int | None = None
    region_id: str | None = None


class OptionValue(Gettable, frozen=True):
    option_id: str | None = None
    value: Any = None


class Variant(Gettable, frozen=True):
    id: str | None = None
    title: str | None = None
    sku: str | None = None
    barcode: str | None = None
    inventory_quantity: Any = None
    allow_backorder: Any = None
    manage_inventory: Any = None
    weight: Any = None
    length: Any = None
    width: Any = None
    height: Any = None
    hs_code: Any = None
    origin_country: Any = None
    mid_code: Any = None
    material: Any = None
    prices: list[Price] = []
    options: list[OptionValue] = []


class Product(Gettable, frozen=True):
    id: str | None = None
    handle: str | None = None
    title: str | None = None
    subtitle: str | None = None
    description: str | None = None
    status: str | None = None
    thumbnail: str | None = None
    weight: Any = None
    length: Any = None
    width: Any = None
    height: Any = None
    hs_code: Any = None
    origin_country: Any = None
    mid_code: Any = None
    material: Any = None
    collection: Named | None = None
    type: Named | None = None
    tags: list[Named] = []
    discountable: Any = None
    external_id: str | None = None
    profile: Named | None = None
    profiles: list[Named] = []
    options: list[Named] = []
    images: list[Named] = []
    sales_channels: list[Named] = []
    categories: list[Named] = []
    variants: list[Variant] = []


decode_product = msgspec.json.Decoder(Product).decode
