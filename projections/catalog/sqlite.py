"""The catalog view in a SQLite file (the embedded default)."""

from __future__ import annotations

from typing import Any

from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

from projections.catalog.sql import SqlCatalogView
from projections.catalog.view import DDL
from projections.parking import parked_ddl
from projections.tracking_mark import KeepsTrackingMark


class SQLiteCatalogView(KeepsTrackingMark, SQLiteTrackingRecorder, SqlCatalogView):
    placeholder = "?"
    unlimited = " LIMIT -1"
    postgres = False
    tracking_table = "tracking"  # this view's own file: its only tracking table
    parked_table = (
        "parked"  # events this read model could not apply (projections.parking)
    )

    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            *DDL,
            parked_ddl(self.parked_table),
        ]

    def _transaction(self, *, commit: bool) -> Any:
        return self.datastore.transaction(commit=commit)
