"""Reads of a PostgreSQL view in one network round trip each.

eventsourcing's `datastore.transaction()` wraps every read in `BEGIN` and
`ROLLBACK` on the pool's autocommit connection: three round trips for a GET, four
for a list page and its count, each holding a pooled connection while it waits.
A lone SELECT in autocommit is its own transaction; the statements of a list are
sent together in one pipeline. Each statement sees the database as of its own
start (READ COMMITTED), as they did inside the BEGIN.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from eventsourcing.postgres import PostgresDatastore

Statement = tuple[str, "Sequence[Any]"]


def one(datastore: PostgresDatastore, sql: str, params: Sequence[Any]) -> Any:
    """The first record `sql` selects, or None."""
    with datastore.get_connection() as conn:
        return conn.execute(sql, params).fetchone()


def each(datastore: PostgresDatastore, *statements: Statement) -> list[list[Any]]:
    """The records of each statement, all sent before the first answer is awaited.

    The statements of one pipeline are one implicit transaction (a single Sync ends
    it): each table's lock is held until the last one is answered. A view's
    statements go in the order its live rebuild and its runner lock its tables
    (rows, counts, tracking: projections.swap.lock), or a rebuild's LOCK TABLE and a
    reader holding a later table while asking an earlier one deadlock.
    """
    with datastore.get_connection() as conn:
        with conn.pipeline():
            cursors = [conn.execute(sql, params) for sql, params in statements]
        return [cursor.fetchall() for cursor in cursors]
