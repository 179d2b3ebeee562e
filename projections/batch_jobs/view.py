"""The batch-jobs view: its interface, and the SQL both backends share."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, NamedTuple

from eventsourcing.persistence import Tracking, TrackingRecorder

from domain.batch_jobs import BatchJobStatus
from projections import swap
from projections.batch_jobs import counts, stats
from projections.batch_jobs.document import document
from projections.batch_jobs.query import (
    STATUS_SQL,
    BatchJobQuery,
    counted_where,
    order_clause,
    where_clause,
)
from projections.batch_jobs.row import (
    COLUMNS,
    JSON_COLUMNS,
    TIME_COLUMNS,
    BatchJobRow,
    fold,
)
from projections.nul import without_nul
from projections.parking import Parking

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from domain.batch_jobs import BatchJob


class BatchJobsView(TrackingRecorder, ABC):
    """Each write folds a batch of events and records tracking in one transaction."""

    @abstractmethod
    def apply_events(
        self, events: Sequence[BatchJob.Event], tracking: Tracking, curs: Any = None
    ) -> None:
        """Fold `events` into the rows and move tracking to `tracking`, atomically.

        In the caller's transaction if `curs` is given, else in one of its own.
        """

    @abstractmethod
    def get_batch_job(self, job_id: str) -> BatchJobRow | None: ...

    @abstractmethod
    def list_batch_jobs(self, query: BatchJobQuery) -> tuple[list[BatchJobRow], int]:
        """One page of rows, and the count of all rows matching the filters."""

    @abstractmethod
    def get_document(self, job_id: str) -> tuple[str | None, str] | None:
        """The job's creator and its stored Medusa JSON; None if there is no such job."""

    @abstractmethod
    def list_documents(self, query: BatchJobQuery) -> tuple[list[str], int]:
        """As list_batch_jobs, but each job's stored Medusa JSON (every field)."""

    @abstractmethod
    def list_documents_by_status(self, query: BatchJobQuery) -> StatusPage:
        """A page of stored Medusa JSON, and how many jobs of each status match.

        The counts apply every filter of `query` but its statuses (and no paging).
        """

    @abstractmethod
    def expired_leases(self, before: datetime, limit: int) -> list[str]:
        """Ids of unfinished jobs whose lease expired before `before`, oldest first."""

    @abstractmethod
    def waiting_for_work(self, before: datetime, limit: int) -> list[str]:
        """Ids of jobs waiting for a worker since before `before`, longest first.

        That is, created or confirmed jobs with no lease that have not changed since.
        """

    @abstractmethod
    def unfinished_contexts(self) -> dict[str, dict[str, Any]]:
        """Each job not completed, canceled or failed: its id and its context."""

    @abstractmethod
    def counts_by_type_and_status(self) -> list[tuple[str, str, int]]:
        """(type, status, jobs) for every type and status that has a job."""

    @abstractmethod
    def changes_per_minute(self, since: datetime) -> list[tuple[str, str, int]]:
        """Jobs per minute that got created, completed, failed or canceled since then.

        Each is (minute as `YYYY-MM-DDTHH:MM` in UTC, what happened, jobs).
        """

    @abstractmethod
    def rebuild_if_outdated(self) -> bool:
        """Drop rows and position if the tables predate this code's.

        That is, if the rows' columns differ, or the counts do not add up to the
        rows (a view from before the counts table had none).

        The projection then rebuilds the view from the events; True if it must.
        """


# What a worker takes up: a new job to pre-process, a confirmed one to process.
WAITING_FOR_WORK = (BatchJobStatus.CREATED, BatchJobStatus.CONFIRMED)


class StatusPage(NamedTuple):
    documents: list[str]
    status_counts: dict[BatchJobStatus, int]  # every status, zeros included

    @classmethod
    def of(cls, documents: list[str], counts: Mapping[str, int]) -> StatusPage:
        every = {status: int(counts.get(status.value, 0)) for status in BatchJobStatus}
        return cls(documents, every)

    def count(self, statuses: Sequence[BatchJobStatus] | None) -> int:
        """The jobs matching the page's filters: the counts of the statuses asked."""
        wanted = self.status_counts if statuses is None else set(statuses)
        return sum(self.status_counts[status] for status in wanted)


class PageStatements(NamedTuple):
    """A list query's page and count, as SQL and parameters."""

    count_sql: str
    params: list[Any]
    page_sql: str
    page_params: list[Any]


class SqlBatchJobsView(BatchJobsView, swap.Rebuildable, Parking, ABC):
    """The SQL both backends run; they differ in placeholders, DDL and value types."""

    table: str
    # Jobs by creator, type and status (projections.batch_jobs.counts).
    counts_table: str
    tracking_table: str
    # What an OFFSET needs before it when there is no limit (SQLite wants a LIMIT).
    unlimited: str = ""
    # From this OFFSET on, a page's rows are found by id first (`_deferred_join`).
    deferred_from: int = 1

    @abstractmethod
    def _transaction(self, *, commit: bool) -> Any:
        """The backend datastore's transaction context manager (yields a cursor)."""

    @abstractmethod
    def _column_names(self, curs: Any) -> list[str]:
        """The view table's columns as the database has them, in order."""

    @abstractmethod
    def create_table(self) -> None:
        """Provided by the backend's recorder: runs its CREATE statements."""

    @abstractmethod
    def _encode_time(self, value: datetime) -> object: ...

    @abstractmethod
    def _decode_time(self, value: Any) -> datetime: ...

    @abstractmethod
    def _encode_json(self, value: dict[str, Any] | None) -> object: ...

    @abstractmethod
    def _decode_json(self, value: Any) -> Any: ...

    def _upsert_statement(self) -> str:
        columns = (*COLUMNS, "document")
        marks = ", ".join([self.placeholder] * len(columns))
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "id")
        return (
            f"INSERT INTO {self.table} ({', '.join(columns)}) VALUES ({marks}) "  # noqa: S608
            f"ON CONFLICT (id) DO UPDATE SET {updates}"
        )

    def apply_events(
        self, events: Sequence[BatchJob.Event], tracking: Tracking, curs: Any = None
    ) -> None:
        if curs is None:
            with self.write_transaction() as own:
                self._apply(own, events, tracking)
        else:
            self._apply(curs, events, tracking)

    def _apply(
        self, curs: Any, events: Sequence[BatchJob.Event], tracking: Tracking
    ) -> None:
        job_ids = sorted({event.originator_id for event in events})
        rows = {row.id: row for row in self._select_rows(curs, job_ids)}
        before = counts.keys_of(rows, job_ids)  # fold changes the rows in place
        changed = fold(rows, events)
        if changed:
            curs.executemany(
                self._upsert_statement(),
                # U+0000 is stored as U+FFFD on both backends (projections.nul).
                [self._encode_row(without_nul(rows[i])) for i in sorted(changed)],
            )
            moved = counts.deltas(before, counts.keys_of(rows, changed))
            if moved:
                curs.executemany(
                    counts.upsert_sql(self.counts_table, self.placeholder),
                    [(*key, n) for key, n in moved],
                )
        self.track(curs, tracking)

    # -- live rebuilds (projections.swap) -------------------------------------------

    def table_names(self) -> list[str]:
        return [self.table, self.counts_table, self.tracking_table]

    def use_tables(self, names: Sequence[str]) -> None:
        self.table, self.counts_table, self.tracking_table = names

    def documents_by_id(self) -> dict[str, tuple[int, str]]:
        """Every row's version and stored document (for `jobstream verify`)."""
        with self._transaction(commit=False) as curs:
            curs.execute(f"SELECT id, version, document FROM {self.table}")  # noqa: S608
            return {
                r["id"]: (int(r["version"]), str(r["document"]))
                for r in curs.fetchall()
            }

    def get_batch_job(self, job_id: str) -> BatchJobRow | None:
        with self._transaction(commit=False) as curs:
            rows = self._select_rows(curs, [job_id])
        return rows[0] if rows else None

    def get_document(self, job_id: str) -> tuple[str | None, str] | None:
        with self._transaction(commit=False) as curs:
            curs.execute(self._document_statement(), [job_id])
            record = curs.fetchone()
        return None if record is None else (record["created_by"], record["document"])

    def _document_statement(self) -> str:
        p = self.placeholder
        return f"SELECT created_by, document FROM {self.table} WHERE id = {p}"  # noqa: S608

    def list_batch_jobs(self, query: BatchJobQuery) -> tuple[list[BatchJobRow], int]:
        records, count = self._page(query, "*")
        return [self._decode_row(record) for record in records], count

    def list_documents(self, query: BatchJobQuery) -> tuple[list[str], int]:
        records, count = self._page(query, "document")
        return [record["document"] for record in records], count

    def list_documents_by_status(self, query: BatchJobQuery) -> StatusPage:
        page = self._page_statements(query, "document")
        counts_sql, counts_params = self._status_counts_statement(query)
        with self._transaction(commit=False) as curs:
            # The page (the rows) first: PostgreSQL holds each table's lock to the
            # end, and a live rebuild locks rows before counts (swap.lock).
            curs.execute(page.page_sql, page.page_params)
            documents = [record["document"] for record in curs.fetchall()]
            curs.execute(counts_sql, counts_params)
            counts = {record["status"]: record["n"] for record in curs.fetchall()}
        return StatusPage.of(documents, counts)

    def _status_counts_statement(self, query: BatchJobQuery) -> tuple[str, list[Any]]:
        """One GROUP BY over the query's filters but its statuses."""
        every_status = dataclasses.replace(query, statuses=None)
        counted = counted_where(every_status, self.placeholder)
        if counted is not None:
            where, params = counted
            return counts.by_status_sql(self.counts_table, where), list(params)
        where, params = where_clause(every_status, self.placeholder, self._encode_time)
        counts_sql = (
            f"SELECT {STATUS_SQL} AS status, COUNT(*) AS n FROM {self.table} "  # noqa: S608
            f"WHERE {where} GROUP BY {STATUS_SQL}"
        )
        return counts_sql, params

    def _page(self, query: BatchJobQuery, columns: str) -> tuple[list[Any], int]:
        page = self._page_statements(query, columns)
        with self._transaction(commit=False) as curs:
            curs.execute(page.page_sql, page.page_params)  # rows first, as above
            records = list(curs.fetchall())
            curs.execute(page.count_sql, page.params)
            count = int(curs.fetchone()["n"])
        return records, count

    def _page_statements(self, query: BatchJobQuery, columns: str) -> PageStatements:
        where, params = where_clause(query, self.placeholder, self._encode_time)
        order = order_clause(query)
        # Identifiers come from this module's constants; values are always parameters.
        page_sql = f"SELECT {columns} FROM {self.table} WHERE {where} {order}"  # noqa: S608
        page_params = list(params)
        if query.limit is not None:
            page_sql += f" LIMIT {self.placeholder}"
            page_params.append(query.limit)
        if query.offset:
            if query.limit is None:
                page_sql += self.unlimited
            page_sql += f" OFFSET {self.placeholder}"
            page_params.append(query.offset)
            if query.limit is not None and query.offset >= self.deferred_from:
                page_sql = self._deferred_join(page_sql, columns, order)
        counted = counted_where(query, self.placeholder)
        if counted is None:
            count_sql = f"SELECT COUNT(*) AS n FROM {self.table} WHERE {where}"  # noqa: S608
            count_params = params
        else:
            count_sql = counts.total_sql(self.counts_table, counted[0])
            count_params = list(counted[1])
        return PageStatements(count_sql, count_params, page_sql, page_params)

    def _deferred_join(self, page_sql: str, columns: str, order: str) -> str:
        """A deep page's rows found by id first, then only the page's rows read.

        PostgreSQL reads every row an OFFSET skips, to the whole document; the ids
        alone come from the creator's index (an index-only scan once vacuumed), so a
        page far down a long list costs a half to a third as much. SQLite skips
        rows more cheaply, but still a third slower than through the covering
        index, from a few hundred rows down (`deferred_from`).
        """
        ids = page_sql.replace(f"SELECT {columns} ", "SELECT id ", 1)
        return f"SELECT {columns} FROM {self.table} WHERE id IN ({ids}) {order}"  # noqa: S608

    def expired_leases(self, before: datetime, limit: int) -> list[str]:
        p = self.placeholder
        select_sql = (
            f"SELECT id FROM {self.table} WHERE lease_expires_at < {p} "  # noqa: S608
            "AND completed_at IS NULL AND canceled_at IS NULL AND failed_at IS NULL "
            f"ORDER BY lease_expires_at LIMIT {p}"
        )
        with self._transaction(commit=False) as curs:
            curs.execute(select_sql, [self._encode_time(before), limit])
            return [record["id"] for record in curs.fetchall()]

    def waiting_for_work(self, before: datetime, limit: int) -> list[str]:
        p = self.placeholder
        # The status expression as the status index has it: the index finds the rows.
        select_sql = (
            f"SELECT id FROM {self.table} WHERE ({STATUS_SQL}) IN ({p}, {p}) "  # noqa: S608
            f"AND lease_expires_at IS NULL AND updated_at < {p} "
            f"ORDER BY updated_at, id LIMIT {p}"
        )
        waiting = [status.value for status in WAITING_FOR_WORK]
        with self._transaction(commit=False) as curs:
            curs.execute(select_sql, [*waiting, self._encode_time(before), limit])
            return [record["id"] for record in curs.fetchall()]

    def unfinished_contexts(self) -> dict[str, dict[str, Any]]:
        select_sql = (
            f"SELECT id, context FROM {self.table} WHERE completed_at IS NULL "  # noqa: S608
            "AND canceled_at IS NULL AND failed_at IS NULL"
        )
        with self._transaction(commit=False) as curs:
            curs.execute(select_sql)
            return {
                record["id"]: self._decode_json(record["context"]) or {}
                for record in curs.fetchall()
            }

    @abstractmethod
    def _minute_of(self, column: str) -> str:
        """SQL for the UTC minute of a time column, as `YYYY-MM-DDTHH:MM` text."""

    def counts_by_type_and_status(self) -> list[tuple[str, str, int]]:
        with self._transaction(commit=False) as curs:
            curs.execute(counts.by_type_and_status_sql(self.counts_table))
            return [(r["type"], r["status"], int(r["n"])) for r in curs.fetchall()]

    def changes_per_minute(self, since: datetime) -> list[tuple[str, str, int]]:
        sql, times = stats.per_minute_sql(self.table, self.placeholder, self._minute_of)
        with self._transaction(commit=False) as curs:
            curs.execute(sql, [self._encode_time(since)] * times)
            return [(r["minute"], r["kind"], int(r["n"])) for r in curs.fetchall()]

    def rebuild_if_outdated(self) -> bool:
        with self._transaction(commit=True) as curs:
            if self._column_names(curs) == [*COLUMNS, "document"]:
                curs.execute(counts.agrees_sql(self.counts_table, self.table))
                if curs.fetchone()["n"] == 1:
                    return False
            curs.execute(f"DROP TABLE {self.table}")
            curs.execute(f"DELETE FROM {self.counts_table}")  # noqa: S608
            curs.execute(f"DELETE FROM {self.tracking_table}")  # noqa: S608
        self.create_table()
        return True

    def _select_rows(self, curs: Any, job_ids: Sequence[str]) -> list[BatchJobRow]:
        if not job_ids:
            return []
        marks = ", ".join([self.placeholder] * len(job_ids))
        select_sql = f"SELECT * FROM {self.table} WHERE id IN ({marks})"  # noqa: S608
        curs.execute(select_sql, list(job_ids))
        return [self._decode_row(record) for record in curs.fetchall()]

    def _encode_row(self, row: BatchJobRow) -> tuple[object, ...]:
        values = vars(row)
        encoded = [self._encode_value(column, values[column]) for column in COLUMNS]
        return (*encoded, document(row))

    def _encode_value(self, column: str, value: Any) -> object:
        if value is None:
            return None
        if column in TIME_COLUMNS:
            return self._encode_time(value)
        if column in JSON_COLUMNS:
            return self._encode_json(value)
        return value

    def _decode_row(self, record: Mapping[str, Any]) -> BatchJobRow:
        values: dict[str, Any] = {}
        for column in COLUMNS:
            value = record[column]
            if value is not None and column in TIME_COLUMNS:
                value = self._decode_time(value)
            elif value is not None and column in JSON_COLUMNS:
                value = self._decode_json(value)
            values[column] = value
        values["dry_run"] = bool(values["dry_run"])
        return BatchJobRow(**values)


def column_definitions(time_type: str, json_type: str, bool_type: str) -> str:
    """The table's columns, in BatchJobRow's order, for a backend's types."""
    types: dict[str, str] = {"id": "TEXT PRIMARY KEY", "version": "INTEGER NOT NULL"}
    for column in COLUMNS:
        if column in types:
            continue
        if column in TIME_COLUMNS:
            types[column] = time_type
        elif column in JSON_COLUMNS:
            types[column] = json_type
        elif column == "dry_run":
            types[column] = f"{bool_type} NOT NULL"
        else:
            types[column] = "TEXT"
    definitions = [f"{column} {types[column]}" for column in COLUMNS]
    # The row's Medusa JSON, rendered when the row changes (projections.batch_jobs.document).
    return ", ".join([*definitions, "document TEXT NOT NULL"])


def index_statements(table: str) -> list[str]:
    """The view's indexes; IF NOT EXISTS, so each start adds new ones to an old table."""
    # Medusa's list queries filter by creator and order by a stamp (created_at first).
    by_creator = f"{table}_creator_created ON {table} (created_by, created_at, id)"
    # The reaper's scan: only jobs a worker holds (or must take up) have one.
    by_expiry = (
        f"{table}_lease_expiry ON {table} (lease_expires_at) "
        "WHERE lease_expires_at IS NOT NULL"
    )
    # The operator API: every creator's jobs, newest first, with or without a status
    # filter (on the derived status, the expression its queries use verbatim).
    by_created = f"{table}_created ON {table} (created_at, id)"
    by_status = f"{table}_status_created ON {table} (({STATUS_SQL}), created_at, id)"
    # Throughput per minute (projections.batch_jobs.stats): the rows changed lately.
    by_update = f"{table}_updated ON {table} (updated_at)"
    indexes = (by_creator, by_expiry, by_created, by_status, by_update)
    return [f"CREATE INDEX IF NOT EXISTS {index}" for index in indexes]
