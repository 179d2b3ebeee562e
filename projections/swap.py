"""Live rebuilds: fold into tables beside the live ones, then swap them in atomically.

A view's shadow has the live tables' names plus `_next` and its own tracking table.
The swap runs in one transaction that also folds the last events: it locks the live
tables against writes (PostgreSQL: an ACCESS EXCLUSIVE lock, so a reader waits a few
milliseconds and then reads the new table; SQLite: the write lock, while WAL readers
keep reading the old tables), folds the shadow up to the live tracking position,
drops the live tables and renames the shadow's in their place, indexes included.
Readers never see a half-built model: before the commit they read the old tables,
after it the new ones, which hold every event the old ones held.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Self

from projections.store_internals import insert_tracking

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from eventsourcing.persistence import Tracking

SHADOW_SUFFIX = "_next"


def shadow_name(table: str) -> str:
    return f"{table}{SHADOW_SUFFIX}"


def tracking_ddl(table: str, *, postgres: bool) -> str:
    """A tracking table shaped as eventsourcing's single-row one."""
    number, tail = ("BIGINT", "") if postgres else ("INTEGER", " WITHOUT ROWID")
    return (
        f"CREATE TABLE {table} (application_name TEXT, notification_id {number}, "
        f"PRIMARY KEY (application_name)){tail}"
    )


def record_tracking(
    curs: Any, table: str, mark: str, upstream: str, position: int
) -> None:
    """Move a shadow's tracking forward (never back) in the caller's transaction."""
    curs.execute(
        f"INSERT INTO {table} (application_name, notification_id) "  # noqa: S608
        f"VALUES ({mark}, {mark}) ON CONFLICT (application_name) DO UPDATE "
        f"SET notification_id = excluded.notification_id "
        f"WHERE {table}.notification_id < excluded.notification_id",
        [upstream, position],
    )


def tracked_position(curs: Any, table: str, mark: str, upstream: str) -> int:
    curs.execute(
        f"SELECT MAX(notification_id) AS n FROM {table} "  # noqa: S608
        f"WHERE application_name = {mark}",
        [upstream],
    )
    row = curs.fetchone()
    return int(row["n"] or 0) if row is not None else 0


def carry_tracking(curs: Any, live: str, shadow: str) -> None:
    """Copy the live tracking rows the shadow lacks into the shadow's table.

    eventsourcing keeps a `__migration__` row in each tracking table; a table without
    it is taken for an old multi-row one and migrated at the next start (renamed to
    `old1_tracking` / `bkup1_...`), which fails the second time. The shadow's own
    position stays: only names it never tracked are copied.
    """
    curs.execute(
        f"INSERT INTO {shadow} (application_name, notification_id) "  # noqa: S608
        f"SELECT application_name, notification_id FROM {live} "
        f"WHERE application_name NOT IN (SELECT application_name FROM {shadow})"
    )


def drop(curs: Any, tables: Sequence[str]) -> None:
    for table in tables:
        curs.execute(f"DROP TABLE IF EXISTS {table}")


def lock(curs: Any, tables: Sequence[str], *, postgres: bool) -> None:
    """Stop writes to the live tables until this transaction ends.

    Tables in the order the projection's own transaction touches them (rows first,
    tracking last), so the two never wait for each other in a cycle.
    """
    if postgres:
        curs.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
    else:
        # SQLite's BEGIN is deferred: the first write takes the database's write lock.
        curs.execute(f"DELETE FROM {tables[-1]} WHERE 0 = 1")  # noqa: S608


def swap(curs: Any, pairs: Sequence[tuple[str, str]], *, postgres: bool) -> None:
    """Replace each live table by its shadow, and give the shadow's indexes live names."""
    for live, shadow in pairs:
        curs.execute(f"DROP TABLE {live}")
        curs.execute(f"ALTER TABLE {shadow} RENAME TO {live}")
        if postgres:
            _rename_postgres_indexes(curs, live, shadow)
        else:
            _rename_sqlite_indexes(curs, live, shadow)


def _rename_postgres_indexes(curs: Any, live: str, shadow: str) -> None:
    curs.execute(
        "SELECT indexname FROM pg_indexes "
        "WHERE schemaname = current_schema() AND tablename = %s",
        [live],
    )
    for row in curs.fetchall():
        name = row["indexname"]
        if name.startswith(shadow):
            curs.execute(
                f"ALTER INDEX {name} RENAME TO {live}{name.removeprefix(shadow)}"
            )


def _rename_sqlite_indexes(curs: Any, live: str, shadow: str) -> None:
    # SQLite cannot rename an index: drop it and build it again under its live name.
    curs.execute(
        "SELECT name, sql FROM sqlite_master "
        "WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        [live],
    )
    for row in list(curs.fetchall()):
        name = row["name"]
        if name.startswith(shadow):
            renamed = f"{live}{name.removeprefix(shadow)}"
            curs.execute(f"DROP INDEX {name}")
            curs.execute(row["sql"].replace(name, renamed, 1))


class Rebuildable(ABC):
    """A SQL view that a live rebuild can shadow and swap (projections.rebuild)."""

    placeholder: str
    postgres: bool
    is_shadow = False  # this copy's tables are the `_next` ones beside the live ones
    # Called with (cursor, position) in each transaction that records a live
    # position: what must happen at its commit and only then (a NOTIFY).
    on_tracked: Callable[[Any, int], None] | None = None

    @abstractmethod
    def _transaction(self, *, commit: bool) -> Any: ...

    @abstractmethod
    def table_names(self) -> list[str]:
        """The view's tables as its writes touch them: data tables, tracking last."""

    @abstractmethod
    def use_tables(self, names: Sequence[str]) -> None:
        """Point this copy at other tables (in `table_names` order)."""

    @abstractmethod
    def _table_statements(self) -> list[str]:
        """CREATE statements of this view's tables and indexes, by its table names."""

    def transaction(self, *, commit: bool) -> Any:
        return self._transaction(commit=commit)

    def write_transaction(self) -> Any:
        """A committing transaction for a round's writes (PostgreSQL: pipelined)."""
        return self._transaction(commit=True)

    def shadow(self) -> Self:
        """The view on tables beside the live ones, for a rebuild to fold into."""
        twin = copy.copy(self)
        twin.use_tables([shadow_name(name) for name in self.table_names()])
        twin.is_shadow = True
        return twin

    def reset(self) -> None:
        """(A shadow) Empty tables, whatever an earlier rebuild left."""
        with self._transaction(commit=True) as curs:
            drop(curs, self.table_names())
            for statement in self._table_statements():
                curs.execute(statement)

    def track(self, curs: Any, tracking: Tracking) -> None:
        """Record the position in the caller's transaction (a shadow in its own table)."""
        if not self.is_shadow:
            # The view's own TrackingRecorder statement, in the caller's transaction.
            insert_tracking(self, curs, tracking)
            if self.on_tracked is not None:
                self.on_tracked(curs, tracking.notification_id)
            return
        record_tracking(
            curs,
            self.table_names()[-1],
            self.placeholder,
            tracking.application_name,
            tracking.notification_id,
        )

    def position(self, upstream: str, curs: Any = None) -> int:
        """The tracked position (0 if none), read in `curs`'s transaction if given."""
        if curs is None:
            with self._transaction(commit=False) as own:
                return self.position(upstream, own)
        return tracked_position(
            curs, self.table_names()[-1], self.placeholder, upstream
        )

    def lock(self, curs: Any) -> None:
        lock(curs, self.table_names(), postgres=self.postgres)

    def swap_in(self, curs: Any, shadow: Rebuildable) -> None:
        pairs = list(zip(self.table_names(), shadow.table_names(), strict=True))
        carry_tracking(curs, *pairs[-1])  # tracking is last
        swap(curs, pairs, postgres=self.postgres)
