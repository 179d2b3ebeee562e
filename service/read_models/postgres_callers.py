"""Where each caller's last write ended, on PostgreSQL: a table beside the events.

The processes serving reads may be on other hosts, so the record of a caller's
writes (service.read_models.caller_positions) is a table in the events' database:
one row per slot (a hash of the caller's id, as embedded). A write raises its slot
in the transaction that stores its events (service.event_store), so it is durable
exactly when they are, costs no commit of its own, and the write answers without
waiting for any read model. A read then waits only until the view has the position
its caller's slot holds: found with the document in the hot lane
(AwaitableDocuments.get_document_for), or asked on the read's thread (`last_write`).

The one case a save did not record (a write whose caller the save was not told) is
recorded by `record`, in a transaction of its own, before the write answers.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from service.read_models.caller_positions import SLOTS, CallerPositions, slot_of

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from eventsourcing.postgres import PostgresDatastore


def table_of(events_table: str) -> str:
    """The slots' table of an events table (same schema, if the name has one)."""
    return f"{events_table}_callers"[:63]


def create_statement(table: str) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {table} ("
        "slot integer PRIMARY KEY, position bigint NOT NULL)"
    )


def raise_statement(table: str) -> str:
    """Raise slots (%s: an int array) to a position (%s), never lower them.

    Sorted slots: two saves raising the same slots lock their rows in one order.
    """
    return (
        f"INSERT INTO {table} (slot, position) "  # noqa: S608 - our own table's name
        "SELECT s, %s::bigint FROM unnest(%s::integer[]) AS s ORDER BY s "
        "ON CONFLICT (slot) DO UPDATE SET position = excluded.position "
        f"WHERE {table}.position < excluded.position"
    )


def select_statement(table: str) -> str:
    """The positions of slots (%s: an int array): (slot, position) records."""
    return f"SELECT slot, position FROM {table} WHERE slot = ANY(%s::integer[])"  # noqa: S608 - our own table's name


def slots_of(caller_ids: Collection[str]) -> list[int]:
    return sorted({slot_of(caller_id) for caller_id in caller_ids})


class PostgresCallerPositions(CallerPositions):
    """The slots in `table` of `datastore`'s database (see the module's docstring)."""

    def __init__(self, datastore: PostgresDatastore, table: str) -> None:
        self._datastore = datastore
        self.table = table
        self._raise = raise_statement(table)
        self._select = select_statement(table)
        # What this process's saves recorded (`saved`): a write's settle is free then.
        self._saved = [0] * SLOTS
        self._lock = threading.Lock()

    @property
    def shared(self) -> bool:
        return True

    def saved(self, slots: Sequence[int], position: int) -> None:
        """A save stored these slots' writes, up to `position`, and committed."""
        with self._lock:
            for slot in slots:
                self._saved[slot] = max(self._saved[slot], position)

    def record(self, caller_id: str, position: int) -> None:
        slot = slot_of(caller_id)
        if self._saved[slot] >= position:
            return  # its save recorded it
        with self._datastore.get_connection() as conn:
            conn.execute(self._raise, (position, [slot]))
        self.saved([slot], position)

    def last_write(self, caller_id: str) -> int | None:
        with self._datastore.get_connection() as conn:
            row = conn.execute(self._select, ([slot_of(caller_id)],)).fetchone()
        return 0 if row is None else int(row["position"])
