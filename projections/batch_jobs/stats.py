"""Throughput over the batch-jobs view for metrics and the system page: SQL both backends share.

Jobs by type and status come from the counts table (projections.batch_jobs.counts).
Throughput reads the rows changed since a moment (an index on `updated_at`: every
stamp of a row is at or before its `updated_at`) in one grouped query.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

# What throughput counts per minute: the stamp that says a job got there.
THROUGHPUT_STAMPS: tuple[tuple[str, str], ...] = (
    ("created", "created_at"),
    ("completed", "completed_at"),
    ("failed", "failed_at"),
    ("canceled", "canceled_at"),
)


def per_minute_sql(
    table: str, placeholder: str, minute_of: Callable[[str], str]
) -> tuple[str, int]:
    """The grouped query, and how many times its one parameter (the moment) appears."""
    parts = [
        f"SELECT {minute_of(column)} AS minute, '{kind}' AS kind FROM {table} "  # noqa: S608
        f"WHERE updated_at >= {placeholder} AND {column} >= {placeholder}"
        for kind, column in THROUGHPUT_STAMPS
    ]
    union = " UNION ALL ".join(parts)
    sql = (
        f"SELECT minute, kind, COUNT(*) AS n FROM ({union}) AS changes "  # noqa: S608
        "GROUP BY minute, kind"
    )
    return sql, 2 * len(parts)
