"""A list query over the batch-jobs read model, and its SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from domain.batch_jobs import STATUS_STAMPS, BatchJobStatus
from projections.batch_jobs.row import COLUMNS, TIME_COLUMNS

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

Operator = Literal["lt", "gt", "lte", "gte", "eq", "is_null"]
_SQL_OPERATORS = {"lt": "<", "gt": ">", "lte": "<=", "gte": ">=", "eq": "="}

# The derived status as SQL: the last set stamp in STATUS_STAMPS wins (derive_status).
# Filters and counts use this exact text, so the expression index on it serves them.
STATUS_SQL = (
    "CASE "
    + " ".join(
        f"WHEN {field} IS NOT NULL THEN '{status.value}'"
        for field, status in reversed(STATUS_STAMPS)
    )
    + f" ELSE '{BatchJobStatus.CREATED.value}' END"
)


@dataclass(frozen=True)
class TimeFilter:
    column: str
    operator: Operator
    value: datetime | None = None


@dataclass(frozen=True)
class BatchJobQuery:
    """Filters AND-ed together; `limit=None` means no limit (Medusa's take: 0).

    `created_by=None` is every creator's jobs (the operator API, for admins); Medusa's
    list always names the caller.
    """

    created_by: str | None
    ids: tuple[str, ...] | None = None
    types: tuple[str, ...] | None = None
    statuses: tuple[BatchJobStatus, ...] | None = None
    id_prefix: str | None = None
    time_filters: tuple[TimeFilter, ...] = ()
    order_by: str = "created_at"
    descending: bool = True
    limit: int | None = 10
    offset: int = 0


def where_clause(
    query: BatchJobQuery, placeholder: str, encode_time: Callable[[datetime], object]
) -> tuple[str, list[object]]:
    clauses, params = _creator_and_lists(
        query, placeholder, id_column="id", status_column=STATUS_SQL
    )
    for time_filter in query.time_filters:
        if time_filter.column not in TIME_COLUMNS:
            raise ValueError(f"not a time column: {time_filter.column}")
        if time_filter.operator == "is_null" or time_filter.value is None:
            clauses.append(f"{time_filter.column} IS NULL")
            continue
        operator = _SQL_OPERATORS[time_filter.operator]
        clauses.append(f"{time_filter.column} {operator} {placeholder}")
        params.append(encode_time(time_filter.value))
    if query.id_prefix is not None:
        # The length is this code's integer, not input: inlined, so both backends
        # compare text to text.
        clauses.append(f"substr(id, 1, {len(query.id_prefix)}) = {placeholder}")
        params.append(query.id_prefix)
    return " AND ".join(clauses) or "1 = 1", params


def order_clause(query: BatchJobQuery) -> str:
    if query.order_by not in COLUMNS:
        raise ValueError(f"not a column: {query.order_by}")
    direction = "DESC" if query.descending else "ASC"
    # The id breaks ties, so pages never repeat or skip a row.
    return f"ORDER BY {query.order_by} {direction}, id {direction}"


def counted_where(
    query: BatchJobQuery, placeholder: str
) -> tuple[str, list[object]] | None:
    """The query's filters over the counts table, or None if it has others.

    The counts table (`projections.batch_jobs.counts`) keeps how many jobs each
    creator has of each type and status, so a count filtered by those alone is a
    sum of a few rows instead of a walk over every matching job.
    """
    if query.ids is not None or query.id_prefix is not None or query.time_filters:
        return None
    clauses, params = _creator_and_lists(
        query, placeholder, id_column=None, status_column="status"
    )
    return " AND ".join(clauses) or "1 = 1", params


def _creator_and_lists(
    query: BatchJobQuery,
    placeholder: str,
    *,
    id_column: str | None,
    status_column: str,
) -> tuple[list[str], list[object]]:
    """The creator, ids, types and statuses filters (ids only with `id_column`)."""
    clauses: list[str] = []
    params: list[object] = []
    if query.created_by is not None:
        clauses.append(f"created_by = {placeholder}")
        params.append(query.created_by)
    statuses = None if query.statuses is None else [s.value for s in query.statuses]
    lists = [("type", query.types), (status_column, statuses)]
    if id_column is not None:
        lists.insert(0, (id_column, query.ids))
    for column, values in lists:
        if values is not None:
            if not values:
                clauses.append("1 = 0")
                continue
            marks = ", ".join([placeholder] * len(values))
            clauses.append(f"{column} IN ({marks})")
            params.extend(values)
    return clauses, params
