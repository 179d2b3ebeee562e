"""The batch-jobs view in PostgreSQL, beside its tracking table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL
from psycopg.types.json import Jsonb

from projections import json_text, postgres_reads, swap
from projections.batch_jobs import counts
from projections.batch_jobs.view import (
    SqlBatchJobsView,
    StatusPage,
    column_definitions,
    index_statements,
)
from projections.parking import parked_ddl
from projections.pipelined import pipelined_transaction
from projections.tracking_mark import KeepsTrackingMark

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from projections.batch_jobs.query import BatchJobQuery
    from projections.postgres_reads import Statement


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
        self.counts_table = self.tracking_table_name.replace("_tracking", "_counts")
        self.check_identifier_length(self.counts_table)
        self.sql_create_statements.append(SQL(counts.ddl(self.counts_table, "BIGINT")))  # type: ignore[arg-type]
        self.parked_table = self.tracking_table_name.replace("_tracking", "_parked")
        self.sql_create_statements.append(SQL(parked_ddl(self.parked_table)))  # type: ignore[arg-type]
        self.sql_create_statements.extend(
            SQL(statement)  # type: ignore[misc]
            for statement in index_statements(self.table)
        )

    # The hot reads: one round trip each (projections.postgres_reads). Their async
    # twins (postgres_async) send the same statements and shape the same records.

    def get_document(self, job_id: str) -> tuple[str | None, str] | None:
        return document_found(
            postgres_reads.one(self.datastore, *self.document_read(job_id))
        )

    # The page goes first in each pipeline: see postgres_reads.each on lock order.

    def list_documents(self, query: BatchJobQuery) -> tuple[list[str], int]:
        count, page = self.list_reads(query)
        documents, counted = postgres_reads.each(self.datastore, page, count)
        return documents_counted(documents_of(documents), counted)

    def list_documents_by_status(self, query: BatchJobQuery) -> StatusPage:
        count, page = self.status_list_reads(query)
        documents, counts = postgres_reads.each(self.datastore, page, count)
        return documents_by_status(documents_of(documents), counts)

    def document_read(self, job_id: str) -> Statement:
        """get_document's statement (its record: `document_found`)."""
        return self._document_statement(), [job_id]

    def documents_read(self, job_ids: list[str]) -> Statement:
        """Many jobs' get_document in one statement (its records: `documents_found`)."""
        return (
            f"SELECT id, created_by, document FROM {self.table} WHERE id = ANY(%s)",  # noqa: S608
            [job_ids],
        )

    def list_reads(self, query: BatchJobQuery) -> tuple[Statement, Statement]:
        """list_documents' count and page (their records: `documents_counted`)."""
        page = self._page_statements(query, "document")
        return (page.count_sql, page.params), (page.page_sql, page.page_params)

    def status_list_reads(self, query: BatchJobQuery) -> tuple[Statement, Statement]:
        """list_documents_by_status' counts and page (`documents_by_status`)."""
        page = self._page_statements(query, "document")
        return self._status_counts_statement(query), (page.page_sql, page.page_params)

    def pages_read(
        self, page_sql: str, each_params: Sequence[Sequence[Any]]
    ) -> Statement:
        """Pages of one shape (one `page_sql`, each its parameters) in one statement.

        A record a page, in `each_params`' order: its index `i` and its `documents`
        in the page's order. Each page's parameters are a row of a VALUES list that
        its copy of the page reads by column; ARRAY(...) keeps the page's ORDER BY.
        Its records: `pages_found`.
        """
        width = page_sql.count("%s")
        if any(len(params) != width for params in each_params):
            raise ValueError("each page needs one parameter per placeholder")
        pieces = page_sql.split("%s")
        page = pieces[0] + "".join(
            f"q.p{j}{piece}" for j, piece in enumerate(pieces[1:])
        )
        row = "".join([", %s"] * width)
        rows = ", ".join(f"({i}{row})" for i in range(len(each_params)))
        names = ", ".join(["i", *(f"p{j}" for j in range(width))])
        # The page's SQL is the view's own; every value is still a parameter.
        sql = (
            f"SELECT q.i, ARRAY({page}) AS documents FROM (VALUES {rows}) AS q({names})"  # noqa: S608
        )
        return (
            sql,
            [value for params in each_params for value in params],
        )

    def position_read(self) -> Statement:
        """The view's position: every fold moves it, and commits with its rows."""
        return f"SELECT MAX(notification_id) AS n FROM {self.tracking_table}", []  # noqa: S608

    def _table_statements(self) -> list[str]:
        columns = column_definitions("TIMESTAMPTZ", "JSONB", "BOOLEAN")
        return [
            f"CREATE TABLE {self.table} ({columns})",
            *index_statements(self.table),
            counts.ddl(self.counts_table, "BIGINT"),
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

    def write_transaction(self) -> Any:
        return pipelined_transaction(self.datastore)

    def _encode_time(self, value: datetime) -> object:
        return value

    def _minute_of(self, column: str) -> str:
        return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI')"""

    def _decode_time(self, value: Any) -> datetime:
        return value  # type: ignore[no-any-return]

    def _encode_json(self, value: dict[str, Any] | None) -> object:
        return Jsonb(value, dumps=json_text.dumps)

    def _decode_json(self, value: Any) -> Any:
        return value


# How the hot reads' records become their results (sync and async alike).


def document_found(record: Any) -> tuple[str | None, str] | None:
    """The job's creator and document, from `_document_statement`'s record (or None)."""
    return None if record is None else (record["created_by"], record["document"])


def documents_found(records: list[Any]) -> dict[str, tuple[str | None, str]]:
    """Each job's creator and document by id, from `documents_read`'s records."""
    return {r["id"]: (r["created_by"], r["document"]) for r in records}


def documents_of(page: list[Any]) -> list[str]:
    """A page's documents, from the records of its statement."""
    return [r["document"] for r in page]


def pages_found(records: list[Any]) -> list[list[str]]:
    """Each page's documents, in `pages_read`'s order, from its records."""
    return [list(r["documents"]) for r in sorted(records, key=lambda r: r["i"])]


def documents_counted(
    documents: list[str], counted: list[Any]
) -> tuple[list[str], int]:
    """A page's documents and the count of all that match."""
    return documents, int(counted[0]["n"])


def documents_by_status(documents: list[str], counts: list[Any]) -> StatusPage:
    """A page's documents and the count of each status (`_status_counts_statement`)."""
    return StatusPage.of(documents, {r["status"]: r["n"] for r in counts})
