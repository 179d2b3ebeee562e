"""The product export's layout: Medusa v1's columns, in its order, one line per variant.

Products are Medusa's product JSON (as the catalog read model stores it): variants
with prices and options, options, images, tags, type, collection, profile, sales
channels and categories. Region prices carry `region_id`; the regions come separately.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from domain.product_csv.cells import (
    DELIMITER,
    NEWLINE,
    escape,
    humanize_amount,
    text_cell,
)

Json = dict[str, Any]


class Record(Protocol):
    """A product, variant or related record: a dict, or anything with `.get`."""

    def get(self, key: str, default: Any = None, /) -> Any: ...


ProductCell = Callable[[Record], str]
VariantCell = Callable[[Record, Record], str]  # (variant, product)


def _product_field(name: str) -> ProductCell:
    return lambda product: text_cell(product.get(name))


def _variant_field(name: str) -> VariantCell:
    return lambda variant, _product: text_cell(variant.get(name))


def _nested(relation: str, name: str) -> ProductCell:
    return lambda product: text_cell((product.get(relation) or {}).get(name))


def _tags(product: Record) -> str:
    return text_cell(
        ",".join(str(tag.get("value")) for tag in product.get("tags") or [])
    )


def _profile(product: Record) -> Record:
    profile = product.get("profile")
    if profile is None and product.get("profiles"):
        profile = product.get("profiles")[-1]
    return profile or {}


PRODUCT_COLUMNS: tuple[tuple[str, ProductCell], ...] = (
    ("Product Id", _product_field("id")),
    ("Product Handle", _product_field("handle")),
    ("Product Title", _product_field("title")),
    ("Product Subtitle", _product_field("subtitle")),
    ("Product Description", _product_field("description")),
    ("Product Status", _product_field("status")),
    ("Product Thumbnail", _product_field("thumbnail")),
    ("Product Weight", _product_field("weight")),
    ("Product Length", _product_field("length")),
    ("Product Width", _product_field("width")),
    ("Product Height", _product_field("height")),
    ("Product HS Code", _product_field("hs_code")),
    ("Product Origin Country", _product_field("origin_country")),
    ("Product MID Code", _product_field("mid_code")),
    ("Product Material", _product_field("material")),
    ("Product Collection Title", _nested("collection", "title")),
    ("Product Collection Handle", _nested("collection", "handle")),
    ("Product Type", _nested("type", "value")),
    ("Product Tags", _tags),
    ("Product Discountable", _product_field("discountable")),
    ("Product External Id", _product_field("external_id")),
    ("Product Profile Name", lambda product: text_cell(_profile(product).get("name"))),
    ("Product Profile Type", lambda product: text_cell(_profile(product).get("type"))),
)
VARIANT_COLUMNS: tuple[tuple[str, VariantCell], ...] = tuple(
    (title, _variant_field(name))
    for title, name in (
        ("Variant Id", "id"),
        ("Variant Title", "title"),
        ("Variant SKU", "sku"),
        ("Variant Barcode", "barcode"),
        ("Variant Inventory Quantity", "inventory_quantity"),
        ("Variant Allow Backorder", "allow_backorder"),
        ("Variant Manage Inventory", "manage_inventory"),
        ("Variant Weight", "weight"),
        ("Variant Length", "length"),
        ("Variant Width", "width"),
        ("Variant Height", "height"),
        ("Variant HS Code", "hs_code"),
        ("Variant Origin Country", "origin_country"),
        ("Variant MID Code", "mid_code"),
        ("Variant Material", "material"),
    )
)


@dataclass(frozen=True)
class Region:
    id: str
    name: str
    currency_code: str


@dataclass
class ExportShape:
    """What pre-processing learns of the products: the dynamic columns to write.

    Stored in the job's `context.shape` under Medusa's names.
    """

    option_count: int = 0
    image_count: int = 0
    sales_channel_count: int = 0
    category_count: int = 0
    # Price descriptors in first-seen order: {"currency_code", "region": {…} | None}.
    prices: list[Json] = field(default_factory=list)
    _seen: set[tuple[object, str | None]] = field(default_factory=set, repr=False)

    def add(self, product: Record, regions: Mapping[str, Region]) -> None:
        """Count a product's relations and see its prices (a product as JSON)."""
        self.add_counts(
            options=len(product.get("options") or []),
            images=len(product.get("images") or []),
            sales_channels=len(product.get("sales_channels") or []),
            categories=len(product.get("categories") or []),
        )
        for variant in product.get("variants") or []:
            for price in variant.get("prices") or []:
                self.add_price(
                    price.get("currency_code"), price.get("region_id"), regions
                )

    def add_counts(
        self, *, options: int, images: int, sales_channels: int, categories: int
    ) -> None:
        self.option_count = max(self.option_count, options)
        self.image_count = max(self.image_count, images)
        self.sales_channel_count = max(self.sales_channel_count, sales_channels)
        self.category_count = max(self.category_count, categories)

    def add_price(
        self,
        currency_code: str | None,
        region_id: str | None,
        regions: Mapping[str, Region],
    ) -> None:
        region = regions.get(region_id or "")
        key = (currency_code, None if region is None else region.id)
        if key in self._seen:
            return
        descriptor = {
            "currency_code": currency_code,
            "region": None
            if region is None
            else {
                "currency_code": region.currency_code,
                "name": region.name,
                "id": region.id,
            },
        }
        self._seen.add(key)
        self.prices.append(descriptor)

    def to_context(self) -> Json:
        return {
            "dynamicImageColumnCount": self.image_count,
            "dynamicOptionColumnCount": self.option_count,
            "dynamicSalesChannelsColumnCount": self.sales_channel_count,
            "dynamicProductCategoriesColumnCount": self.category_count,
            "prices": list(self.prices),
        }

    @classmethod
    def from_context(cls, shape: Mapping[str, Any]) -> ExportShape:
        return cls(
            option_count=int(shape.get("dynamicOptionColumnCount") or 0),
            image_count=int(shape.get("dynamicImageColumnCount") or 0),
            sales_channel_count=int(shape.get("dynamicSalesChannelsColumnCount") or 0),
            category_count=int(shape.get("dynamicProductCategoriesColumnCount") or 0),
            prices=list(shape.get("prices") or []),
        )


def _currency_price(code: str) -> VariantCell:
    wanted = code.lower()

    def cell(variant: Record, _product: Record) -> str:
        for price in variant.get("prices") or []:
            if str(price.get("currency_code") or "").lower() == wanted:
                return humanize_amount(price.get("amount") or 0, code)
        return ""

    return cell


def _region_price(region: Json) -> VariantCell:
    region_id = str(region.get("id") or "").lower()
    currency = str(region.get("currency_code") or "")

    def cell(variant: Record, _product: Record) -> str:
        for price in variant.get("prices") or []:
            if str(price.get("region_id") or "").lower() == region_id:
                return humanize_amount(price.get("amount") or 0, currency)
        return ""

    return cell


def _option_value(index: int) -> VariantCell:
    def cell(variant: Record, product: Record) -> str:
        options = product.get("options") or []
        if index >= len(options):
            return ""
        option_id = options[index].get("id")
        for value in variant.get("options") or []:
            if value.get("option_id") == option_id:
                return text_cell(value.get("value"))
        return ""

    return cell


def _related(relation: str, index: int, name: str) -> ProductCell:
    def cell(product: Record) -> str:
        items = product.get(relation) or []
        return text_cell(items[index].get(name)) if index < len(items) else ""

    return cell


class ExportLayout:
    """The columns for one shape: a header line, then lines for each product.

    Medusa keys its columns by name: a dynamic column whose name is taken keeps the
    first position. `Sales Channel N Id` holds the channel's id (Medusa v1 writes its
    name there by mistake).
    """

    def __init__(self, shape: ExportShape) -> None:
        self._columns: dict[str, tuple[bool, Callable[..., str]]] = {}
        for name, product_cell in PRODUCT_COLUMNS:
            self._of_product(name, product_cell)
        for name, variant_cell in VARIANT_COLUMNS:
            self._of_variant(name, variant_cell)
        for descriptor in shape.prices:
            self._add_prices(descriptor)
        for i in range(shape.option_count):
            self._of_product(f"Option {i + 1} Name", _related("options", i, "title"))
            self._of_variant(f"Option {i + 1} Value", _option_value(i))
        for i in range(shape.image_count):
            self._of_product(f"Image {i + 1} Url", _related("images", i, "url"))
        self._add_related(
            shape.sales_channel_count, "Sales Channel", "sales_channels", "id"
        )
        self._add_related(
            shape.category_count, "Product Category", "categories", "handle"
        )
        cells = list(self._columns.values())
        self._product_cells = [
            (index, cell)
            for index, (of_product, cell) in enumerate(cells)
            if of_product
        ]
        self._variant_cells = [
            (index, cell)
            for index, (of_product, cell) in enumerate(cells)
            if not of_product
        ]

    def _add_prices(self, descriptor: Json) -> None:
        code, region = descriptor.get("currency_code"), descriptor.get("region")
        if code:
            self._of_variant(f"Price {code.upper()}", _currency_price(code))
        if region:
            currency = region.get("currency_code")
            suffix = f"[{currency.upper()}]" if currency else ""
            self._of_variant(
                f"Price {region.get('name')} {suffix}", _region_price(region)
            )

    def _add_related(self, count: int, title: str, relation: str, key: str) -> None:
        """`<title> N Id|Handle`, `… Name`, `… Description` for each of `count`."""
        for i in range(count):
            for part, name in (
                (key.capitalize(), key),
                ("Name", "name"),
                ("Description", "description"),
            ):
                self._of_product(f"{title} {i + 1} {part}", _related(relation, i, name))

    # Keyed by name: a dynamic column whose name is taken keeps the first position.
    def _of_product(self, name: str, cell: ProductCell) -> None:
        self._columns.setdefault(name, (True, cell))

    def _of_variant(self, name: str, cell: VariantCell) -> None:
        self._columns.setdefault(name, (False, cell))

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    def header(self) -> str:
        return DELIMITER.join(escape(name) for name in self._columns) + NEWLINE

    def lines(self, product: Record) -> list[str]:
        """One line per variant (none for a product without variants)."""
        variants = product.get("variants") or []
        if not variants:
            return []
        fixed = [""] * len(self._columns)
        for index, product_cell in self._product_cells:
            fixed[index] = escape(product_cell(product))
        lines = []
        for variant in variants:
            cells = fixed.copy()
            for index, variant_cell in self._variant_cells:
                cells[index] = escape(variant_cell(variant, product))
            lines.append(DELIMITER.join(cells) + NEWLINE)
        return lines


def regions_by_id(regions: Iterable[Region]) -> dict[str, Region]:
    return {region.id: region for region in regions}
