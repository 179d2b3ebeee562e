"""GET /admin/products query parameters (AdminGetProductsParams) as a list request."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from domain.catalog.base import iso
from domain.errors import InvalidDataError
from projections.catalog.query import ORDERABLE, ProductFilter, TimeFilter
from service.http.catalog import shaping
from service.http.catalog.product_bodies import STATUSES
from service.http.input_checks import check_page_number
from service.http.list_params import parse_date

ARRAYS = (
    "collection_id", "tags", "type_id", "sales_channel_id", "price_list_id",
    "category_id",
)  # fmt: skip
PARAMETERS = (
    "q", "id", "handle", "title", "description", "status", *ARRAYS,
    "include_category_children", "is_giftcard", "discount_condition_id",
    "created_at", "updated_at", "deleted_at", "expand", "fields", "order", "limit",
    "offset",
)  # fmt: skip
DEFAULT_LIMIT = 50
# @IsString in AdminGetProductsParams: qs turns `q[a]=x` or `q[]=x` into a non-string.
STRINGS = (
    "q", "handle", "title", "description", "discount_condition_id", "expand", "fields",
    "order",
)  # fmt: skip


@dataclass(frozen=True)
class ProductListRequest:
    query: ProductFilter
    include_category_children: bool
    columns: tuple[str, ...] | None
    relations: frozenset[str]
    shaped: bool  # fields or expand given: the stored documents need shaping
    order_by: str
    descending: bool
    limit: int
    offset: int


def parse_product_list(params: dict[str, Any]) -> ProductListRequest:
    errors = [f"property {k} should not exist" for k in params if k not in PARAMETERS]
    errors.extend(
        f"{key} must be a string"
        for key in STRINGS
        if key in params and not isinstance(params[key], str)
    )
    arrays = {key: _array(params, key, errors) for key in ARRAYS}
    statuses = _statuses(params.get("status"), errors)
    times = [
        f for key in ("created_at", "updated_at") for f in _times(params, key, errors)
    ]
    limit = number_param(params, "limit", DEFAULT_LIMIT, errors)
    offset = number_param(params, "offset", 0, errors)
    if errors:
        raise InvalidDataError(", ".join(errors))
    ids = params.get("id")
    # No price lists or discounts exist in Jobstream: those filters match nothing.
    nothing = (
        () if "price_list_id" in params or "discount_condition_id" in params else None
    )
    order_by, descending = _order(params.get("order"))
    query = ProductFilter(
        ids=nothing if nothing is not None else (None if ids is None else tuple(_listed(ids))),
        q=params.get("q") or None, handle=params.get("handle"), title=params.get("title"),
        description=params.get("description"), statuses=statuses,
        collection_ids=arrays["collection_id"], type_ids=arrays["type_id"],
        tag_ids=arrays["tags"], sales_channel_ids=arrays["sales_channel_id"],
        category_ids=arrays["category_id"], is_giftcard=_boolean(params.get("is_giftcard")),
        time_filters=tuple(times),
    )  # fmt: skip
    return ProductListRequest(
        query=query,
        include_category_children=_boolean(params.get("include_category_children")) is True,
        columns=shaping.parse_fields(params.get("fields"), listing=True),
        relations=shaping.parse_expand(params.get("expand")),
        shaped="fields" in params or "expand" in params,
        order_by=order_by, descending=descending, limit=limit, offset=offset,
    )  # fmt: skip


def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _array(
    params: dict[str, Any], key: str, errors: list[str]
) -> tuple[str, ...] | None:
    if key not in params:
        return None
    if not isinstance(params[key], list):
        errors.append(f"{key} must be an array")
        return None
    return tuple(str(v) for v in params[key])


def _statuses(value: Any, errors: list[str]) -> tuple[str, ...] | None:
    if value is None:
        return None
    statuses = _listed(value)
    if any(status not in STATUSES for status in statuses):
        errors.append(
            f"each value in status must be one of the following values: {', '.join(STATUSES)}"
        )
    return tuple(statuses)


def _boolean(value: Any) -> bool | None:
    """Medusa's optionalBooleanMapper: "true"/"false" (anything else: no filter)."""
    return (
        {"true": True, "false": False}.get(str(value).lower())
        if value is not None
        else None
    )


def _times(params: dict[str, Any], key: str, errors: list[str]) -> list[TimeFilter]:
    value = params.get(key)
    if value is None:
        return []
    if not isinstance(value, dict):
        errors.append(f"{key} must be an object")
        return []
    filters = []
    for operator, raw in value.items():
        moment = parse_date(raw)
        if operator not in {"lt", "gt", "lte", "gte"}:
            errors.append(f"property {operator} should not exist")
        elif moment is None:
            errors.append(f"{operator} must be a Date instance")
        else:
            filters.append(TimeFilter(key, operator, iso(moment)))
    return filters


def record_page(
    params: dict[str, Any], allowed: Iterable[str], default_limit: int
) -> tuple[int, int]:
    """A record list's `limit` and `offset`; 400 with every unknown or bad parameter."""
    known = set(allowed)
    errors = [f"property {k} should not exist" for k in params if k not in known]
    limit = number_param(params, "limit", default_limit, errors)
    offset = number_param(params, "offset", 0, errors)
    if errors:
        raise InvalidDataError(", ".join(errors))
    return limit, offset


def number_param(
    params: dict[str, Any], key: str, default: int, errors: list[str]
) -> int:
    if key not in params:
        return default
    raw = params[key]
    try:
        number = float(raw) if isinstance(raw, str) and raw.strip() else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        errors.append(f"{key} must be a number conforming to the specified constraints")
        return default
    return max(int(number), 0) if check_page_number(key, number, errors) else default


def _order(order: Any) -> tuple[str, bool]:
    if order is None:
        return "created_at", True
    text = str(order)
    field, descending = (text[1:], True) if text.startswith("-") else (text, False)
    if field not in ORDERABLE:
        raise InvalidDataError(f"Order field {field} is not valid")
    return field, descending
