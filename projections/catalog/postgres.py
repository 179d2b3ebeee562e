"""The catalog view in PostgreSQL, beside its tracking table."""

from __future__ import annotations

from typing import Any

from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL

from projections.catalog.sql import SqlCatalogView
from projections.catalog.view import DDL
from projections.parking import parked_ddl
from projections.pipelined import pipelined_transaction
from projections.tracking_mark import KeepsTrackingMark


class PostgresCatalogView(KeepsTrackingMark, PostgresTrackingRecorder, SqlCatalogView):
    placeholder = "%s"
    postgres = True

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.tracking_table = self.tracking_table_name
        self.parked_table = self.tracking_table_name.replace("_tracking", "_parked")
        for statement in (*DDL, parked_ddl(self.parked_table)):
            self.sql_create_statements.append(SQL(statement))  # type: ignore[arg-type]

    def _transaction(self, *, commit: bool) -> Any:
        return self.datastore.transaction(commit=commit)

    def write_transaction(self) -> Any:
        """Only the skip's record and notice use it (its rounds keep a plain one)."""
        return pipelined_transaction(self.datastore)
