"""The batch-jobs view in PostgreSQL, beside its tracking table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL
from psycopg.types.json import Jsonb

from projections.batch_jobs.view import (
    SqlBatchJobsView,
    column_definitions,
    created_by_index,
)

if TYPE_CHECKING:
    from datetime import datetime


class PostgresBatchJobsView(PostgresTrackingRecorder, SqlBatchJobsView):
    placeholder = "%s"

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.table = self.tracking_table_name.replace("_tracking", "_rows")
        self.check_identifier_length(self.table)
        columns = column_definitions("TIMESTAMPTZ", "JSONB", "BOOLEAN")
        self.sql_create_statements.append(
            SQL(f"CREATE TABLE IF NOT EXISTS {self.table} ({columns})")  # type: ignore[arg-type]
        )
        self.sql_create_statements.append(SQL(created_by_index(self.table)))  # type: ignore[arg-type]

    def _transaction(self, *, commit: bool) -> Any:
        return self.datastore.transaction(commit=commit)

    def _encode_time(self, value: datetime) -> object:
        return value

    def _decode_time(self, value: Any) -> datetime:
        return value  # type: ignore[no-any-return]

    def _encode_json(self, value: dict[str, Any] | None) -> object:
        return Jsonb(value)

    def _decode_json(self, value: Any) -> Any:
        return value
