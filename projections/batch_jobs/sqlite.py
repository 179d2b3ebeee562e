"""The batch-jobs view in a SQLite file (the embedded default)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

from projections import json_text, swap
from projections.batch_jobs import counts
from projections.batch_jobs.view import (
    SqlBatchJobsView,
    StatusPage,
    column_definitions,
    index_statements,
)
from projections.parking import parked_ddl
from projections.sqlite_reads import ThreadReads
from projections.stamp_text import remembered
from projections.tracking_mark import KeepsTrackingMark

if TYPE_CHECKING:
    from collections.abc import Callable

    from projections.batch_jobs.query import BatchJobQuery


COUNT_CACHE_SIZE = 1024
_MISSING = object()


def _utc_text(moment: datetime) -> str:
    # Same text as strftime("%Y-%m-%dT%H:%M:%S.%fZ"), at a fraction of the cost.
    return (
        moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    )


_column_text = remembered(_utc_text)


class SQLiteBatchJobsView(KeepsTrackingMark, SQLiteTrackingRecorder, SqlBatchJobsView):
    placeholder = "?"
    table = "batch_jobs"
    counts_table = "batch_job_counts"
    tracking_table = "tracking"  # this view's own file: its only tracking table
    parked_table = (
        "parked"  # events this read model could not apply (projections.parking)
    )
    unlimited = " LIMIT -1"
    postgres = False
    # Measured on 4,000 rows of one creator: the plain page costs 12 us at offset 0,
    # 35 at 400 and 86 at 1,250; the deferred join 20, 35 and 66.
    deferred_from = 400

    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        # An in-memory database is private to its connection: read through the pool.
        pool = datastore.pool
        self._reads = None if pool.is_sqlite_memory_mode else ThreadReads(pool.db_name)
        # COUNT(*) walks every index entry of the caller's jobs (0.3-0.6 ms at 3,000):
        # a list's count is kept per query and tracking position, which moves with
        # every change to the rows (they commit together), so a hit is exact.
        self._counts: dict[tuple[object, ...], Any] = {}

    def get_document(self, job_id: str) -> tuple[str | None, str] | None:
        if self._reads is None:
            return super().get_document(job_id)
        record = self._reads.one(self._document_statement(), (job_id,))
        return None if record is None else (record[0], record[1])

    def list_documents(self, query: BatchJobQuery) -> tuple[list[str], int]:
        if self._reads is None:
            return super().list_documents(query)
        page = self._page_statements(query, "document")
        with self._reads.snapshot() as connection:
            count = self._count(connection, page.count_sql, page.params)
            documents = connection.execute(page.page_sql, page.page_params).fetchall()
        return [document for (document,) in documents], count

    def list_documents_by_status(self, query: BatchJobQuery) -> StatusPage:
        if self._reads is None:
            return super().list_documents_by_status(query)
        page = self._page_statements(query, "document")
        counts_sql, counts_params = self._status_counts_statement(query)
        with self._reads.snapshot() as connection:
            counts = self._cached(connection, counts_sql, counts_params, dict)
            documents = connection.execute(page.page_sql, page.page_params).fetchall()
        return StatusPage.of([document for (document,) in documents], counts)

    def _count(self, connection: Any, count_sql: str, params: list[Any]) -> int:
        """The rows `count_sql` counts, from the cache while the position stands still."""
        return int(self._cached(connection, count_sql, params, lambda r: r[0][0]))

    def _cached(
        self,
        connection: Any,
        sql: str,
        params: list[Any],
        result: Callable[[list[Any]], Any],
    ) -> Any:
        """`result` of the records `sql` selects, cached while the position stands still."""
        position_sql = f"SELECT MAX(notification_id) FROM {self.tracking_table}"  # noqa: S608
        (position,) = connection.execute(position_sql).fetchone()
        key = (position, sql, *params)
        value = self._counts.get(key, _MISSING)
        if value is _MISSING:
            value = result(connection.execute(sql, params).fetchall())
            if len(self._counts) >= COUNT_CACHE_SIZE:
                self._counts.clear()  # old positions' entries are never hit again
            self._counts[key] = value
        return value

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        # Times are ISO text in UTC with microseconds: one width, so text order is time order.
        columns = column_definitions("TEXT", "TEXT", "INTEGER")
        statements.append(f"CREATE TABLE IF NOT EXISTS {self.table} ({columns})")
        statements.extend(index_statements(self.table))
        statements.append(counts.ddl(self.counts_table, "INTEGER"))
        statements.append(parked_ddl(self.parked_table))
        return statements

    def _table_statements(self) -> list[str]:
        columns = column_definitions("TEXT", "TEXT", "INTEGER")
        return [
            f"CREATE TABLE {self.table} ({columns})",
            *index_statements(self.table),
            counts.ddl(self.counts_table, "INTEGER"),
            swap.tracking_ddl(self.tracking_table, postgres=False),
        ]

    def _column_names(self, curs: Any) -> list[str]:
        curs.execute(f"PRAGMA table_info({self.table})")
        return [record["name"] for record in curs.fetchall()]

    def _transaction(self, *, commit: bool) -> Any:
        return self.datastore.transaction(commit=commit)

    def _encode_time(self, value: datetime) -> object:
        return _column_text(value)

    def _minute_of(self, column: str) -> str:
        return f"substr({column}, 1, 16)"  # ISO text in UTC: the minute's prefix

    def _decode_time(self, value: Any) -> datetime:
        return datetime.fromisoformat(value)  # 50x faster than strptime; rows have many

    def _encode_json(self, value: dict[str, Any] | None) -> object:
        return json_text.dumps(value)

    def _decode_json(self, value: Any) -> Any:
        return json_text.loads(value)
