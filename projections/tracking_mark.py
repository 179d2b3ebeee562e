"""Put back the tracking mark that rebuilds before the fix left out.

eventsourcing keeps a `__migration__` row in every tracking table. A table without
it is taken for an old multi-row one at the next start and "migrated": renamed to
`old1_tracking` on SQLite (which fails the next time, the name taken), and on
PostgreSQL failing on the primary key's name. Until projections.swap copied the row
into the shadow, `jobstream projections rebuild` swapped in tables without it.

A view whose bases start with KeepsTrackingMark puts the row back before the library
looks, when the table is single-row shaped (so one of ours); an old multi-row table
is left to the library's migration. The leftover of such a failed migration (a
single-row `old1_tracking` / `bkup1_<table>`) is dropped: only that bug made one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from projections.store_internals import (
    TRACKING_MIGRATION_MARK,
    tracking_migration_leftover,
)

MARK = TRACKING_MIGRATION_MARK


def _primary_key_columns(curs: Any, table: str, *, postgres: bool) -> int:
    """How many columns the table's primary key has (0: no such table)."""
    if postgres:
        curs.execute(
            "SELECT COUNT(*) AS n FROM pg_index i JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = to_regclass(%s) AND i.indisprimary",
            [table],
        )
    else:
        curs.execute(
            "SELECT COUNT(*) AS n FROM pragma_table_info(?) WHERE pk > 0", [table]
        )
    row = curs.fetchone()
    return int(row["n"]) if row is not None else 0


def restore_mark(curs: Any, table: str, *, postgres: bool) -> None:
    """Add the mark to a single-row tracking table that lacks it."""
    if _primary_key_columns(curs, table, postgres=postgres) != 1:
        return  # none yet, or an old multi-row table: the library's to handle
    leftover = tracking_migration_leftover(table, postgres=postgres)
    if _primary_key_columns(curs, leftover, postgres=postgres) == 1:
        curs.execute(f"DROP TABLE {leftover}")
    mark = "%s" if postgres else "?"
    # Read first: a process opening a view another keeps must not write to it. On
    # SQLite a write here would upgrade this read transaction while the keeper's
    # projection writes, and SQLite answers that at once with "database is locked".
    curs.execute(
        f"SELECT 1 FROM {table} WHERE application_name = {mark}",  # noqa: S608
        [MARK],
    )
    if curs.fetchone() is not None:
        return
    curs.execute(
        f"INSERT INTO {table} (application_name, notification_id) "  # noqa: S608
        f"VALUES ({mark}, 1) ON CONFLICT (application_name) DO NOTHING",
        [MARK],
    )


class KeepsTrackingMark:
    """First in a view's bases, before the backend's TrackingRecorder."""

    tracking_table: str
    postgres: bool

    if TYPE_CHECKING:

        def _transaction(self, *, commit: bool) -> Any: ...  # the view's own

    def create_table(self) -> None:
        with self._transaction(commit=True) as curs:
            restore_mark(curs, self.tracking_table, postgres=self.postgres)
        super().create_table()  # type: ignore[misc]
