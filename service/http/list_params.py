"""GET /admin/batch-jobs query validation, with Medusa's messages (AdminGetBatchParams)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.errors import InvalidDataError
from projections.batch_jobs.query import BatchJobQuery, Operator, TimeFilter
from projections.batch_jobs.row import COLUMNS
from service.http.input_checks import check_page_number

# Medusa's defaultAdminBatchFields, plus dry_run: TypeORM leaves it to the class
# default when not selected, so Jobstream returns the real value instead.
DEFAULT_FIELDS = (
    "id", "type", "context", "result", "created_by", "created_at", "updated_at",
    "deleted_at", "confirmed_at", "pre_processed_at", "processing_at", "completed_at",
    "canceled_at", "failed_at", "dry_run",
)  # fmt: skip
SELECTABLE = frozenset(COLUMNS) - {"version"}
RELATIONS = frozenset({"created_by_user"})
NULLABLE_STAMPS = (
    "confirmed_at",
    "pre_processed_at",
    "completed_at",
    "failed_at",
    "canceled_at",
)
# class-validator reports the subclass's own properties first, then the inherited
# pagination ones; whitelist errors come before all of them.
PROPERTIES = (
    "id", "type", *NULLABLE_STAMPS, "created_at", "updated_at",
    "limit", "offset", "expand", "fields", "order",
)  # fmt: skip
OPERATORS: tuple[Operator, ...] = ("lt", "gt", "lte", "gte")
_UNIX_SECONDS = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass(frozen=True)
class ListRequest:
    query: BatchJobQuery
    fields: tuple[str, ...]
    expand_user: bool
    limit: int
    offset: int


def parse_date(value: Any) -> datetime | None:
    """Medusa's transformDate: numbers are unix seconds, other strings dates."""
    if not isinstance(value, str) or not value:
        return None
    try:
        if _UNIX_SECONDS.match(value):
            return datetime.fromtimestamp(float(value), UTC)
        parsed = datetime.fromisoformat(value)
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def validate_list_query(params: dict[str, Any], user_id: str) -> ListRequest:
    errors = [
        f"property {key} should not exist" for key in params if key not in PROPERTIES
    ]
    filters: list[TimeFilter] = []
    for stamp in (*NULLABLE_STAMPS, "updated_at"):
        if stamp in params:
            filters.extend(_stamp_filters(stamp, params[stamp], errors))
    if "created_at" in params:
        filters.extend(_created_at_filters(params["created_at"]))
    id_list = _array(params, "id", errors)
    types = _array(params, "type", errors)
    limit = _number(params, "limit", 10, errors)
    offset = _number(params, "offset", 0, errors)
    errors.extend(
        f"{key} must be a string"
        for key in ("expand", "fields", "order")
        if key in params and not isinstance(params[key], str)
    )
    if errors:
        raise InvalidDataError(", ".join(errors))
    order_by, descending = _order(params.get("order"))
    return ListRequest(
        query=BatchJobQuery(
            created_by=user_id,
            ids=id_list,
            types=types,
            time_filters=tuple(filters),
            order_by=order_by,
            descending=descending,
            limit=limit or None,  # TypeORM's take: 0 means no limit
            offset=offset,
        ),
        fields=_fields(params.get("fields")),
        expand_user=_expand(params.get("expand")),
        limit=limit,
        offset=offset,
    )


def _array(
    params: dict[str, Any], key: str, errors: list[str]
) -> tuple[str, ...] | None:
    if key not in params:
        return None
    value = params[key]
    if not isinstance(value, list):
        errors.append(f"{key} must be an array")
        return None
    return tuple(str(item) for item in value)


def _number(params: dict[str, Any], key: str, default: int, errors: list[str]) -> int:
    if key not in params:
        return default
    value = params[key]
    try:
        number = float(value.strip() or "0") if isinstance(value, str) else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        errors.append(f"{key} must be a number conforming to the specified constraints")
        return default
    if number < 0:
        errors.append(f"{key} must not be less than 0")
        return default
    return int(number) if check_page_number(key, number, errors) else default


def _stamp_filters(stamp: str, value: Any, errors: list[str]) -> list[TimeFilter]:
    if value == "null":
        return [TimeFilter(stamp, "is_null")]
    if isinstance(value, str):
        moment = parse_date(value)
        if moment is None:
            errors.append(f"{stamp} must be a Date instance")
            return []
        return [TimeFilter(stamp, "eq", moment)]
    if not isinstance(value, dict):
        errors.append(f"{stamp} must be a Date instance")
        return []
    return _comparisons(stamp, value, errors)


def _comparisons(
    stamp: str, value: dict[str, Any], errors: list[str]
) -> list[TimeFilter]:
    filters: list[TimeFilter] = []
    for operator, raw in value.items():
        moment = parse_date(raw)
        if operator not in OPERATORS:
            errors.append(f"property {operator} should not exist")
        elif moment is None:
            errors.append(f"{operator} must be a Date instance")
        else:
            filters.append(TimeFilter(stamp, operator, moment))
    return filters


def _created_at_filters(value: Any) -> list[TimeFilter]:
    # Medusa validates created_at with IsType([DateComparisonOperator]), which throws
    # its findings as a JSON string: the message below is that string, verbatim.
    inner: list[str] = []
    filters: list[TimeFilter] = []
    if isinstance(value, dict):
        filters = _comparisons("created_at", value, inner)
    else:
        inner.append("an unknown value was passed to the validate function")
    if inner:
        raise InvalidDataError(
            json.dumps(
                {
                    "message": "created_at must be one of: DateComparisonOperator",
                    "details": {"DateComparisonOperator": inner},
                },
                separators=(",", ":"),
            )
        )
    return filters


def _order(order: str | None) -> tuple[str, bool]:
    if order is None:
        return "created_at", True
    descending = order.startswith("-")
    # Medusa splits "-field" on "-" and keeps the second piece.
    field = order.split("-")[1] if descending else order
    if field not in SELECTABLE:
        raise InvalidDataError(f"Order field {field} is not valid")
    return field, descending


def _fields(fields: str | None) -> tuple[str, ...]:
    """Medusa's prepareListQuery select: replace, or +add/-remove from the defaults."""
    if fields is None:
        return DEFAULT_FIELDS
    requested = [field for field in fields.split(",") if field]
    selected = dict.fromkeys(DEFAULT_FIELDS)
    if not requested or any(not f.startswith(("+", "-", "*")) for f in requested):
        selected = dict.fromkeys(f.lstrip("+-") for f in requested)
    else:
        for field in requested:
            if field.startswith("-"):
                selected.pop(field[1:], None)
            else:
                selected[field.lstrip("+")] = None
    # Medusa selects created_at and id too; dry_run comes back from the entity's
    # class default (TypeORM keeps it on a partial select): Jobstream gives its value.
    selected.update({"created_at": None, "id": None, "dry_run": None})
    invalid = [field for field in selected if field not in SELECTABLE]
    if invalid:
        raise InvalidDataError(f"Requested fields [{', '.join(invalid)}] are not valid")
    return tuple(selected)


def _expand(expand: str | None) -> bool:
    relations = [relation for relation in (expand or "").split(",") if relation]
    invalid = [relation for relation in relations if relation not in RELATIONS]
    if invalid:
        raise InvalidDataError(f"Requested fields [{', '.join(invalid)}] are not valid")
    return bool(relations)
