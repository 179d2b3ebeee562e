"""The export's `context`: Medusa's prepareListQuery, and its filterable fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain.errors import InvalidDataError
from projections.catalog.query import ProductFilter

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_LIMIT = 50
# defaultAdminProductRelations, then what the export strategy adds (sales channels on).
DEFAULT_RELATIONS = (
    "variants", "variants.prices", "variants.options", "profiles", "images",
    "options", "options.values", "tags", "type", "collection",
    "variants.prices.region", "sales_channels",
)  # fmt: skip
_CONSUMED = ("limit", "offset", "order", "fields", "expand", "filterable_fields")


def prepared_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """Medusa's prepareBatchJobForProcessing: the list keys become `list_config`."""
    kept = {key: value for key, value in context.items() if key not in _CONSUMED}
    list_config: dict[str, Any] = {}
    fields = context.get("fields")
    if fields:
        selected = [name for name in str(fields).split(",") if name]
        list_config["select"] = list(dict.fromkeys([*selected, "created_at", "id"]))
    list_config["order"] = _order(context.get("order"))
    expand = context.get("expand")
    list_config["relations"] = (
        [name for name in str(expand).split(",") if name]
        if expand
        else list(DEFAULT_RELATIONS)
    )
    list_config["skip"] = context.get("offset") or 0
    list_config["take"] = context.get("limit") or DEFAULT_LIMIT
    prepared = {**kept, "list_config": list_config}
    if context.get("filterable_fields") is not None:
        prepared["filterable_fields"] = context["filterable_fields"]
    return prepared


def _order(order: Any) -> dict[str, str]:
    if not order:
        return {"created_at": "DESC"}
    text = str(order)
    if text.startswith("-"):
        return {text[1:]: "DESC"}
    return {text: "ASC"}


@dataclass(frozen=True)
class ExportSelection:
    """Which products, in which order, from where, and how many at most."""

    query: ProductFilter
    order_by: str
    descending: bool
    skip: int
    page_size: int
    batch_size: int | None

    @classmethod
    def of(cls, context: Mapping[str, Any]) -> ExportSelection:
        list_config = context.get("list_config") or {}
        ((order_by, direction),) = (
            list_config.get("order") or {"created_at": "DESC"}
        ).items()
        batch_size = context.get("batch_size")
        return cls(
            query=product_filter(context.get("filterable_fields") or {}),
            order_by=order_by,
            descending=str(direction).upper() == "DESC",
            skip=int(list_config.get("skip") or 0),
            page_size=max(1, int(list_config.get("take") or DEFAULT_LIMIT)),
            batch_size=None if batch_size is None else int(batch_size),
        )


def product_filter(fields: Mapping[str, Any]) -> ProductFilter:
    """`filterable_fields` (a productService selector) as a catalog filter."""
    known = {"id", "handle", "title", "description", "status", "collection_id",
             "type_id", "q", "tags", "sales_channel_id", "category_id"}  # fmt: skip
    unknown = sorted(set(fields) - known)
    if unknown:
        raise InvalidDataError(
            f"filterable_fields {', '.join(unknown)} are not supported for product-export"
        )

    def listed(key: str) -> tuple[str, ...] | None:
        value = fields.get(key)
        if value is None:
            return None
        return (
            tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)
        )

    return ProductFilter(
        ids=listed("id"),
        q=fields.get("q"),
        handle=fields.get("handle"),
        title=fields.get("title"),
        description=fields.get("description"),
        statuses=listed("status"),
        collection_ids=listed("collection_id"),
        type_ids=listed("type_id"),
        tag_ids=listed("tags"),
        sales_channel_ids=listed("sales_channel_id"),
        category_ids=listed("category_id"),
    )
