"""Catalog entities as Medusa's JSON documents (the shapes of its admin responses)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain.catalog import geography
from domain.catalog.products import COLUMNS as PRODUCT_COLUMNS
from domain.catalog.variants import COLUMNS as VARIANT_COLUMNS

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

Document = dict[str, Any]
PRICING_KEYS = (
    "original_price", "calculated_price", "original_price_incl_tax",
    "calculated_price_incl_tax", "original_tax", "calculated_tax", "tax_rates",
)  # fmt: skip
# Every relation of a product document; `profile` and `profile_id` come with `profiles`.
PRODUCT_RELATIONS = (
    "categories", "collection", "images", "options", "profiles", "sales_channels",
    "tags", "type", "variants",
)  # fmt: skip


def _entity(
    state: Mapping[str, Any], columns: Iterable[str], *, soft_deletable: bool = True
) -> Document:
    document: Document = {"id": state["id"]} if "id" in state else {}
    document["created_at"] = state["created_at"]
    document["updated_at"] = state["updated_at"]
    if soft_deletable:
        document["deleted_at"] = state.get("deleted_at")
    document.update({column: state.get(column) for column in columns})
    return document


def region(state: Mapping[str, Any]) -> Document:
    document = _entity(state, (
        "name", "currency_code", "tax_rate", "tax_code", "gift_cards_taxable",
        "automatic_taxes", "tax_provider_id", "metadata",
    ))  # fmt: skip
    document["countries"] = [
        geography.country(iso_2, state["id"]) for iso_2 in state["countries"]
    ]
    document["currency"] = geography.currency(state["currency_code"])
    for key in ("fulfillment_providers", "payment_providers"):
        document[key] = [{"id": p, "is_installed": True} for p in state[key]]
    return document


def collection(state: Mapping[str, Any]) -> Document:
    return _entity(state, ("title", "handle", "metadata"))


def sales_channel(state: Mapping[str, Any]) -> Document:
    return _entity(state, ("name", "description", "is_disabled", "metadata"))


def shipping_profile(state: Mapping[str, Any]) -> Document:
    return _entity(state, ("name", "type", "metadata"))


def category(state: Mapping[str, Any]) -> Document:
    return _entity(
        state,
        ("name", "description", "handle", "is_active", "is_internal",
         "parent_category_id", "rank", "metadata"),
        soft_deletable=False,
    )  # fmt: skip


def _value(item: Mapping[str, Any]) -> Document:
    return _entity(item, ("value", "metadata"))


def _option_value(value: Mapping[str, Any], variant_id: str) -> Document:
    document = _entity(value, ("value", "option_id"))
    document.update(variant_id=variant_id, metadata=value.get("metadata"))
    return document


def _price(price: Mapping[str, Any], variant_id: str) -> Document:
    document = _entity(
        price, ("currency_code", "amount", "min_quantity", "max_quantity")
    )
    document.update(
        price_list_id=None, region_id=price.get("region_id"), price_list=None,
        variant_id=variant_id,
    )  # fmt: skip
    return document


def variant(state: Mapping[str, Any]) -> Document:
    document = _entity(state, VARIANT_COLUMNS)
    document["options"] = [_option_value(v, state["id"]) for v in state["options"]]
    document["prices"] = [_price(p, state["id"]) for p in state["prices"]]
    document.update(dict.fromkeys(PRICING_KEYS))
    return document


def product(state: Mapping[str, Any], related: Mapping[str, Document]) -> Document:
    """The product with Medusa's default relations.

    `related` maps ids to the documents of its collection, sales channels, categories
    and shipping profile.
    """
    document = _entity(state, PRODUCT_COLUMNS)
    variants = sorted(state["variants"], key=lambda v: v["variant_rank"])
    values = [(value, v["id"]) for v in variants for value in v["options"]]
    profile = related.get(state["profile_id"])
    document.update(
        categories=[related[c] for c in state["category_ids"] if c in related],
        collection=related.get(state["collection_id"] or ""),
        images=[_entity(i, ("url", "metadata")) for i in state["images"]],
        options=[
            {**_entity(o, ("title", "product_id", "metadata")),
             "values": [_option_value(v, vid) for v, vid in values
                        if v["option_id"] == o["id"]]}
            for o in state["options"]
        ],
        profiles=[profile] if profile else [],
        profile=profile,
        profile_id=state["profile_id"],
        sales_channels=[related[c] for c in state["sales_channel_ids"] if c in related],
        tags=[_value(t) for t in state["tags"]],
        type=_value(state["type"]) if state["type"] else None,
        variants=[variant(v) for v in variants],
    )  # fmt: skip
    return document


RENDERERS = {
    "region": region,
    "collection": collection,
    "sales_channel": sales_channel,
    "shipping_profile": shipping_profile,
    "category": category,
}


def record(kind: str, state: Mapping[str, Any]) -> Document:
    """Any catalog entity but a product (the store's defaults render as their state)."""
    renderer = RENDERERS.get(kind)
    return dict(state) if renderer is None else renderer(state)
