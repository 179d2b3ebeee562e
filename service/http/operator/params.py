"""GET /admin/jobstream/jobs query: filters, paging and order, checked with clear errors."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from litestar.openapi.spec import OpenAPIType, Schema

from domain import job_access
from domain.batch_jobs import BatchJobStatus
from domain.errors import InvalidDataError, NotAllowedError
from domain.users import User
from projections.batch_jobs.query import BatchJobQuery, Operator, TimeFilter
from service.http import openapi
from service.http.input_checks import MAX_PAGE_NUMBER
from service.http.list_params import parse_date

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
PARAMETERS = (
    "status", "type", "created_by", "created_at", "updated_at", "q",
    "limit", "offset", "order",
)  # fmt: skip
ORDERS = {
    "created_at": ("created_at", False),
    "-created_at": ("created_at", True),
    "updated_at": ("updated_at", False),
    "-updated_at": ("updated_at", True),
}
DATE_OPERATORS: tuple[Operator, ...] = ("gt", "gte", "lt", "lte")
STATUS_VALUES = tuple(status.value for status in BatchJobStatus)


_LIST = Schema(type=OpenAPIType.ARRAY, items=openapi.STRING)
_INTEGER = Schema(type=OpenAPIType.INTEGER)
_DATES = (
    "An object of gt, gte, lt, lte: ISO 8601 dates, e.g. `created_at[gte]=2026-01-01`"
)
# What the OpenAPI document says of each parameter (the checks are below).
LIST_PARAMETERS = [
    openapi.query(
        "status",
        f"Statuses, comma-separated or repeated: {', '.join(STATUS_VALUES)}.",
        _LIST,
    ),
    openapi.query("type", "Batch types, comma-separated or repeated.", _LIST),
    openapi.query("created_by", "A user id; members and developers: their own only."),
    openapi.query("created_at", _DATES, openapi.OBJECT),
    openapi.query("updated_at", _DATES, openapi.OBJECT),
    openapi.query("q", "The start of a job id."),
    openapi.query(
        "limit", f"Page size, 0 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).", _INTEGER
    ),
    openapi.query("offset", "Jobs to skip (default 0).", _INTEGER),
    openapi.query("order", f"One of {', '.join(ORDERS)} (default -created_at)."),
]


class OtherCreatorError(NotAllowedError):
    """A member or developer asked for another user's jobs: 403, not Medusa's 400."""

    def __init__(self) -> None:
        super().__init__("Only an admin may list the batch jobs of another user")


@dataclass(frozen=True)
class JobListRequest:
    query: BatchJobQuery
    limit: int
    offset: int


def job_list_request(params: dict[str, Any], caller: User) -> JobListRequest:
    """The view's query for `params`; InvalidDataError naming every bad parameter."""
    errors = [
        f"property {key} should not exist" for key in params if key not in PARAMETERS
    ]
    statuses = _statuses(params.get("status"), errors)
    types = _strings(params, "type", errors)
    created_by = _single(params, "created_by", errors)
    id_prefix = _single(params, "q", errors)
    filters = [
        *_dates(params, "created_at", errors),
        *_dates(params, "updated_at", errors),
    ]
    limit = _number(params, "limit", DEFAULT_LIMIT, MAX_LIMIT, errors)
    offset = _number(params, "offset", 0, MAX_PAGE_NUMBER, errors)
    order = _single(params, "order", errors) or "-created_at"
    if order not in ORDERS:
        errors.append(f"order must be one of: {', '.join(ORDERS)}")
    if errors:
        raise InvalidDataError(", ".join(errors))
    order_by, descending = ORDERS[order]
    query = BatchJobQuery(
        created_by=_creator(created_by, caller),
        types=types,
        statuses=statuses,
        id_prefix=id_prefix,
        time_filters=tuple(filters),
        order_by=order_by,
        descending=descending,
        limit=limit,
        offset=offset,
    )
    return JobListRequest(query=query, limit=limit, offset=offset)


def _creator(asked: str | None, caller: User) -> str | None:
    """Admins: the creator asked for, or everyone; others: themselves only."""
    if job_access.sees_every_job(caller):
        return asked
    if asked is not None and asked != caller.id:
        raise OtherCreatorError
    return caller.id


def _strings(
    params: dict[str, Any], key: str, errors: list[str]
) -> tuple[str, ...] | None:
    """A comma list, repeated keys, or both; None if absent."""
    if key not in params:
        return None
    value = params[key]
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) for item in items):
        errors.append(f"{key} must be a comma-separated list of strings")
        return None
    names = [name for item in items for name in item.split(",") if name]
    if not names:
        errors.append(f"{key} must not be empty")
        return None
    return tuple(dict.fromkeys(names))


def _statuses(value: Any, errors: list[str]) -> tuple[BatchJobStatus, ...] | None:
    names = _strings({} if value is None else {"status": value}, "status", errors)
    if names is None:
        return None
    unknown = [name for name in names if name not in STATUS_VALUES]
    if unknown:
        listed = ", ".join(STATUS_VALUES)
        errors.append(f"status {', '.join(unknown)} is not one of: {listed}")
        return None
    return tuple(BatchJobStatus(name) for name in names)


def _single(params: dict[str, Any], key: str, errors: list[str]) -> str | None:
    value = params.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        errors.append(f"{key} must be one non-empty string")
        return None
    return value


def _dates(params: dict[str, Any], key: str, errors: list[str]) -> list[TimeFilter]:
    if key not in params:
        return []
    value = params[key]
    if not isinstance(value, dict) or not value:
        operators = "|".join(DATE_OPERATORS)
        errors.append(f"{key} must be given as {key}[{operators}]=<ISO 8601 date>")
        return []
    filters: list[TimeFilter] = []
    for operator, raw in value.items():
        moment = parse_date(raw)
        if operator not in DATE_OPERATORS:
            errors.append(f"property {key}[{operator}] should not exist")
        elif moment is None:
            errors.append(f"{key}[{operator}] must be an ISO 8601 date")
        else:
            filters.append(TimeFilter(key, operator, moment))
    return filters


def _number(
    params: dict[str, Any], key: str, default: int, most: int, errors: list[str]
) -> int:
    value = params.get(key)
    if value is None:
        return default
    try:
        number = float(value) if isinstance(value, str) else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number != int(number):
        errors.append(f"{key} must be a whole number")
    elif number < 0:
        errors.append(f"{key} must not be less than 0")
    elif number > most:
        errors.append(f"{key} must not be greater than {most}")
    else:
        return int(number)
    return default
