"""The batch-jobs view in PostgreSQL, beside its tracking table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL
from psycopg.types.json import Jsonb

from projections import swap
from projections.batch_jobs.view import (
    SqlBatchJobsView,
    column_definitions,
    index_statements,
)
from projections.parking import parked_ddl
from projections.tracking_mark import KeepsTrackingMark

if TYPE_CHECKING:
    from datetime import datetime


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
