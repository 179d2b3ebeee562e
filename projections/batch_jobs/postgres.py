"""The batch-jobs view in PostgreSQL, beside its tracking table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL
from psycopg.types.json import Jsonb

from projections import postgres_reads, swap
from projections.batch_jobs.view import (
    SqlBatchJobsView,
    StatusPage,
    column_definitions,
    index_statements,
)
from projections.parking import parked_ddl
from projections.tracking_mark import KeepsTrackingMark

if TYPE_CHECKING:
    from datetime import datetime

    from projections.batch_jobs.query import BatchJobQuery


class PostgresBatchJobsView(
    KeepsTrackingMark, PostgresTrackingRecorder, SqlBatchJobsView
):
    placeholder = "%s"
    postgres = True

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.table = self.tracking_table_name.replace("_tracking", "_rows")
        self.check_identifier_length(self.table)
        columns = column_definitions("TIMESTAMPTZ", "JSONB", "BOOLEAN")
        self.sql_create_statements.append(
            SQL(f"CREATE TABLE IF NOT EXISTS {self.table} ({columns})")  # type: ignore[arg-type]
        )
        self.tracking_table = self.tracking_table_name
        self.parked_table = self.tracking_table_name.replace("_tracking", "_parked")
        self.sql_create_statements.append(SQL(parked_ddl(self.parked_table)))  # type: ignore[arg-type]
        self.sql_create_statements.extend(
            SQL(statement)  # type: ignore[misc]
            for statement in index_statements(self.table)
        )

    # The hot reads: one round trip each (projections.postgres_reads).

    def get_document(self, job_id: str) -> tuple[str | None, str] | None:
        sql = self._document_statement()
        record = postgres_reads.one(self.datastore, sql, [job_id])
        return None if record is None else (record["created_by"], record["document"])

    def list_documents(self, query: BatchJobQuery) -> tuple[list[str], int]:
        page = self._page_statements(query, "document")
        counted, documents = postgres_reads.each(
            self.datastore,
            (page.count_sql, page.params),
            (page.page_sql, page.page_params),
        )
        return [r["document"] for r in documents], int(counted[0]["n"])

    def list_documents_by_status(self, query: BatchJobQuery) -> StatusPage:
        page = self._page_statements(query, "document")
        counts, documents = postgres_reads.each(
            self.datastore,
            self._status_counts_statement(query),
            (page.page_sql, page.page_params),
        )
        return StatusPage.of(
            [r["document"] for r in documents], {r["status"]: r["n"] for r in counts}
        )

    def _table_statements(self) -> list[str]:
        columns = column_definitions("TIMESTAMPTZ", "JSONB", "BOOLEAN")
        return [
            f"CREATE TABLE {self.table} ({columns})",
            *index_statements(self.table),
            swap.tracking_ddl(self.tracking_table, postgres=True),
        ]

    def _column_names(self, curs: Any) -> list[str]:
        curs.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s "
            "ORDER BY ordinal_position",
            [self.table],
        )
        return [record["column_name"] for record in curs.fetchall()]

    def _transaction(self, *, commit: bool) -> Any:
        return self.datastore.transaction(commit=commit)

    def _encode_time(self, value: datetime) -> object:
        return value

    def _minute_of(self, column: str) -> str:
        return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI')"""

    def _decode_time(self, value: Any) -> datetime:
        return value  # type: ignore[no-any-return]

    def _encode_json(self, value: dict[str, Any] | None) -> object:
        return Jsonb(value)

    def _decode_json(self, value: Any) -> Any:
        return value
