"""The product aggregate: columns, shared values, options, and variants with prices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain import ids
from domain.catalog import claims, prices, variants
from domain.catalog.base import CatalogAggregate, JsonObject, iso, stamped
from domain.catalog.text import kebab_case, value_id
from domain.errors import NotFoundError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

# Medusa's product columns, in the order its JSON lists them.
COLUMNS = (
    "title", "subtitle", "description", "handle", "is_giftcard", "status",
    "thumbnail", "weight", "length", "height", "width", "hs_code", "origin_country",
    "mid_code", "material", "collection_id", "type_id", "discountable", "external_id",
    "metadata",
)  # fmt: skip
UPDATABLE = (
    "title", "subtitle", "description", "handle", "status", "thumbnail", "weight",
    "length", "height", "width", "hs_code", "origin_country", "mid_code", "material",
    "collection_id", "discountable", "external_id",
)  # fmt: skip


@dataclass(frozen=True)
class CatalogContext:
    """What a product command needs from the rest of the catalog (the caller looks it up).

    `region_currencies` maps the ids of the regions that prices name to their currencies.
    """

    default_profile_id: str
    gift_card_profile_id: str
    default_sales_channel_id: str
    region_currencies: Mapping[str, str]


def merge_metadata(current: JsonObject | None, patch: JsonObject) -> JsonObject:
    """Medusa's setMetadata: keys merge in; a key sent as "" is deleted."""
    merged = {**(current or {}), **patch}
    return {key: value for key, value in merged.items() if value != ""}


def shared_values(prefix: str, items: Iterable[JsonObject]) -> list[JsonObject]:
    """Tags or a type: `{value, id?}` upserted by value (the id derives from it)."""
    return [
        {"id": item.get("id") or value_id(prefix, item["value"]), "value": item["value"],
         "metadata": None}
        for item in items
    ]  # fmt: skip


def images_of(urls: Iterable[str]) -> list[JsonObject]:
    return [{"id": value_id("img", url), "url": url, "metadata": None} for url in urls]


def _stamp_variant(variant: JsonObject, moment: str) -> JsonObject:
    variant = stamped(variant, moment)
    variant["options"] = [stamped(v, moment) for v in variant["options"]]
    variant["prices"] = [stamped(p, moment) for p in variant["prices"]]
    return variant


class Product(CatalogAggregate):
    """A product; its variants, options, images, tags and type live inside it."""

    KIND = "product"
    PREFIX = "prod"
    if TYPE_CHECKING:  # set by the events' apply; annotations here would make
        # eventsourcing generate an __init__ from them
        title: str
        handle: str
        thumbnail: str | None
        metadata: JsonObject | None
        collection_id: str | None
        profile_id: str
        deleted_at: str | None
        sales_channel_ids: list[str]
        category_ids: list[str]
        options: list[JsonObject]
        variants: list[JsonObject]

    @dataclass(frozen=True)
    class Created(CatalogAggregate.Created):
        NAME = "product.created"
        attributes: JsonObject
        images: list[JsonObject]
        tags: list[JsonObject]
        type: JsonObject | None
        sales_channel_ids: list[str]
        category_ids: list[str]
        options: list[JsonObject]
        variants: list[JsonObject]

        def change(self, aggregate: Any) -> None:
            moment = iso(self.timestamp)
            for column, value in self.attributes.items():
                setattr(aggregate, column, value)
            aggregate.images = [stamped(i, moment) for i in self.images]
            aggregate.tags = [stamped(t, moment) for t in self.tags]
            aggregate.type = None if self.type is None else stamped(self.type, moment)
            aggregate.sales_channel_ids = list(self.sales_channel_ids)
            aggregate.category_ids = list(self.category_ids)
            aggregate.options = [stamped(o, moment) for o in self.options]
            aggregate.variants = [_stamp_variant(v, moment) for v in self.variants]

    @dataclass(frozen=True)
    class Updated(CatalogAggregate.Event):
        """Columns and relations that changed, with their new values."""

        NAME = "product.updated"
        changes: JsonObject

        def change(self, aggregate: Any) -> None:
            moment = iso(self.timestamp)
            for key, value in self.changes.items():
                if key in {"images", "tags"}:
                    value = [stamped(item, moment) for item in value]  # noqa: PLW2901
                elif key == "type" and value is not None:
                    value = stamped(value, moment)  # noqa: PLW2901
                setattr(aggregate, key, value)

    @dataclass(frozen=True)
    class VariantCreated(CatalogAggregate.Event):
        NAME = "product-variant.created"
        variant: JsonObject

        def change(self, aggregate: Any) -> None:
            moment = iso(self.timestamp)
            aggregate.variants = [
                *aggregate.variants,
                _stamp_variant(self.variant, moment),
            ]

    @dataclass(frozen=True)
    class VariantUpdated(CatalogAggregate.Event):
        NAME = "product-variant.updated"
        variant_id: str
        changes: JsonObject

        def change(self, aggregate: Any) -> None:
            moment = iso(self.timestamp)
            changes = dict(self.changes)
            for key in ("options", "prices"):  # the children sent are stamped
                if key in changes:
                    changes[key] = [stamped(item, moment) for item in changes[key]]
            aggregate.variants = [
                stamped({**v, **changes}, moment) if v["id"] == self.variant_id else v
                for v in aggregate.variants
            ]

    @dataclass(frozen=True)
    class VariantDeleted(CatalogAggregate.Event):
        NAME = "product-variant.deleted"
        variant_id: str

        def change(self, aggregate: Any) -> None:
            aggregate.variants = [
                v for v in aggregate.variants if v["id"] != self.variant_id
            ]

    @dataclass(frozen=True)
    class Deleted(CatalogAggregate.Event):
        NAME = "product.deleted"

        def change(self, aggregate: Any) -> None:
            aggregate.deleted_at = iso(self.timestamp)

    # -- commands ------------------------------------------------------------------

    @classmethod
    def create(cls, data: JsonObject, context: CatalogContext, actor: str) -> Product:
        """Medusa's product create: `data` is a validated AdminPostProductsReq body."""
        product_id = cls.new_id()
        giftcard = bool(data.get("is_giftcard", False))
        urls = list(data.get("images") or [])
        attributes: JsonObject = {column: data.get(column) for column in COLUMNS}
        attributes.update(
            handle=data.get("handle") or kebab_case(data["title"]),
            is_giftcard=giftcard, status=data.get("status") or "draft",
            thumbnail=data.get("thumbnail") or (urls[0] if urls else None),
            discountable=False if giftcard else data.get("discountable", True),
            external_id=data.get("external_id"),  # the API refuses it; an import sets it
            profile_id=context.gift_card_profile_id
            if giftcard else context.default_profile_id,
        )  # fmt: skip
        product_type = shared_values("ptyp", [data["type"]]) if data.get("type") else []
        attributes["type_id"] = product_type[0]["id"] if product_type else None
        options = [
            {"id": ids.new_id("opt"), "title": o["title"], "product_id": product_id,
             "metadata": o.get("metadata")}
            for o in data.get("options") or []
        ]  # fmt: skip
        built = [
            variants.build(
                v, product_id=product_id, rank=rank,
                option_values=variants.values_by_position(v, options),
                regions=context.region_currencies,
            )
            for rank, v in enumerate(data.get("variants") or [])
        ]  # fmt: skip
        channels = [c["id"] for c in data.get("sales_channels") or []]
        return cls._create(
            cls.Created, id=product_id, actor=actor, attributes=attributes,
            images=images_of(urls), tags=shared_values("ptag", data.get("tags") or []),
            type=product_type[0] if product_type else None,
            sales_channel_ids=channels or [context.default_sales_channel_id],
            category_ids=[c["id"] for c in data.get("categories") or []],
            options=options, variants=built,
        )  # fmt: skip

    def update(self, data: JsonObject, context: CatalogContext, actor: str) -> None:
        """Medusa's product update: `data` is a validated AdminPostProductsProductReq."""
        self._check_live()
        changes = {column: data[column] for column in UPDATABLE if column in data}
        if "metadata" in data:
            changes["metadata"] = merge_metadata(self.metadata, data["metadata"] or {})
        if "images" in data:
            changes["images"] = images_of(data["images"] or [])
            if not self.thumbnail and "thumbnail" not in data and changes["images"]:
                changes["thumbnail"] = changes["images"][0]["url"]
        if "tags" in data:
            changes["tags"] = shared_values("ptag", data["tags"] or [])
        if "type" in data:
            found = shared_values("ptyp", [data["type"]]) if data["type"] else []
            changes["type"] = found[0] if found else None
            changes["type_id"] = found[0]["id"] if found else None
        for key, relation in (("sales_channels", "sales_channel_ids"),
                              ("categories", "category_ids")):  # fmt: skip
            if key in data:
                changes[relation] = [item["id"] for item in data[key] or []]
        if changes:
            self.trigger_event(self.Updated, changes=changes, actor=actor)
        if "variants" in data:
            self.replace_variants(data["variants"] or [], context, actor)

    def replace_variants(
        self, items: list[JsonObject], context: CatalogContext, actor: str
    ) -> None:
        """The listed variants, in this order: updated (with an id) or added; others go."""
        listed = [item["id"] for item in items if item.get("id")]
        foreign = [
            variant_id for variant_id in listed if not self.has_variant(variant_id)
        ]
        if foreign:
            raise NotFoundError(
                f"Variants with id: {', '.join(foreign)} are not associated with this product"
            )
        for variant in list(self.variants):
            if variant["id"] not in listed:
                self.remove_variant(variant["id"], actor)
        for rank, item in enumerate(items):
            if item.get("id"):
                self.update_variant(
                    item["id"], {**item, "variant_rank": rank}, context, actor
                )
            else:
                self.add_variant({**item, "variant_rank": rank}, context, actor)

    def add_variant(self, data: JsonObject, context: CatalogContext, actor: str) -> str:
        """A new variant; its `options` are `{option_id, value}`, one per product option."""
        self._check_live()
        values = variants.values_by_option_id(data, self.options)
        variants.check_not_duplicate(data["title"], values, self.variants)
        rank = data.get("variant_rank", len(self.variants))
        variant = variants.build(
            data, product_id=self.id, rank=rank, option_values=values,
            regions=context.region_currencies,
        )  # fmt: skip
        self.trigger_event(self.VariantCreated, variant=variant, actor=actor)
        return str(variant["id"])

    def update_variant(
        self, variant_id: str, data: JsonObject, context: CatalogContext, actor: str
    ) -> None:
        """Change the columns present in `data`.

        `prices`, when present, replace the list (matched by currency or region,
        keeping ids); without `prices` the variant keeps its prices.
        """
        self._check_live()
        current = self.variant(variant_id)
        changes = variants.columns_of(data)
        if "variant_rank" in data:
            changes["variant_rank"] = data["variant_rank"]
        if data.get("prices") is not None:
            changes["prices"] = prices.merged_prices(
                current["prices"], data["prices"], context.region_currencies
            )
        if data.get("options"):
            changes["options"] = variants.updated_values(
                current["options"], data["options"]
            )
        changed = {k: v for k, v in changes.items() if current.get(k) != v}
        if changed:
            self.trigger_event(
                self.VariantUpdated, variant_id=variant_id, changes=changed, actor=actor
            )

    def remove_variant(self, variant_id: str, actor: str) -> None:
        self.variant(variant_id)
        self.trigger_event(self.VariantDeleted, variant_id=variant_id, actor=actor)

    def delete(self, actor: str) -> None:
        if self.deleted_at is None:
            self.trigger_event(self.Deleted, actor=actor)

    # -- queries -------------------------------------------------------------------

    def has_variant(self, variant_id: str) -> bool:
        return any(v["id"] == variant_id for v in self.variants)

    def variant(self, variant_id: str) -> JsonObject:
        for variant in self.variants:
            if variant["id"] == variant_id:
                return dict(variant)
        raise NotFoundError(f"Variant with id: {variant_id} was not found")

    def unique_keys(self) -> set[str]:
        if self.deleted_at is not None:
            return set()
        keys = {claims.claim_key(claims.PRODUCT_HANDLE, self.handle)}
        skus = (v["sku"] for v in self.variants if v.get("sku"))
        return keys | {claims.claim_key(claims.VARIANT_SKU, sku) for sku in skus}

    def references(self) -> set[str]:
        refs = {self.profile_id, *self.sales_channel_ids, *self.category_ids}
        return refs | ({self.collection_id} if self.collection_id else set())

    def _check_live(self) -> None:
        if self.deleted_at is not None:
            raise NotFoundError(f"Product with id: {self.id} was not found")
