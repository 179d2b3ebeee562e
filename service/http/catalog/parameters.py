"""OpenAPI query parameters of the catalog's lists, from the names each handler accepts.

The handlers parse the query string themselves (qs-style, as Medusa's express does)
and refuse any name not in their tuple of accepted parameters: the document lists
exactly those tuples.
"""

from __future__ import annotations

from collections.abc import Iterable

from litestar.openapi.spec import OpenAPIType, Operation, Parameter, Schema

from service.http import openapi

INTEGER = Schema(type=OpenAPIType.INTEGER, minimum=0)
ARRAY = Schema(type=OpenAPIType.ARRAY, items=openapi.STRING)
FLAG = Schema(type=OpenAPIType.STRING, enum=["true", "false"])
DATE_FILTER = Schema(
    type=OpenAPIType.OBJECT,
    properties=dict.fromkeys(("lt", "gt", "lte", "gte"), openapi.STRING),
)
DESCRIPTIONS = {
    "q": "Free-text search.",
    "limit": "Page size.",
    "offset": "Rows to skip (default 0).",
    "order": "A column to order by; `-column` for descending.",
    "fields": "Comma-separated columns to return (`id` always comes back).",
    "expand": "Comma-separated relations to include; empty for none.",
    "include_category_children": "`true`: `category_id` also matches subcategories.",
    "include_descendants_tree": "`true`: nest every level of `category_children`.",
    "status": "Only products in these statuses.",
    "discount_condition_id": "Only entities under this discount condition (none exist).",
}
SCHEMAS = {
    "limit": INTEGER,
    "offset": INTEGER,
    "created_at": DATE_FILTER,
    "updated_at": DATE_FILTER,
    "deleted_at": DATE_FILTER,
    "is_active": FLAG,
    "is_internal": FLAG,
    "is_giftcard": FLAG,
    "include_category_children": FLAG,
    "include_descendants_tree": FLAG,
}
DATE_DESCRIPTION = "Bounds as `{name}[gt]=2024-01-01` (`lt`, `gt`, `lte`, `gte`)."


def _parameter(name: str, arrays: frozenset[str]) -> Parameter:
    if name in arrays:
        return openapi.query(
            f"{name}[]", DESCRIPTIONS.get(name, f"Only these `{name}` values."), ARRAY
        )
    schema = SCHEMAS.get(name, openapi.STRING)
    default = (
        DATE_DESCRIPTION.format(name=name)
        if schema is DATE_FILTER
        else f"Only entities whose `{name}` equals this."
    )
    return openapi.query(name, DESCRIPTIONS.get(name, default), schema)


def listed(accepted: Iterable[str], arrays: Iterable[str] = ()) -> type[Operation]:
    """An Operation class documenting these accepted query parameters."""
    array_names = frozenset(arrays)
    return openapi.documented([_parameter(name, array_names) for name in accepted])
