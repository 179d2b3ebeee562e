"""Each caller's last write, on PostgreSQL: a table every host of a deployment reads.

The processes serving reads may be on other hosts, so the record lives in the
database beside the views: a write answers once its row is committed, without
waiting for the view (caller_positions). A read compares the caller's row with the
view's position; the hot lane reads both in the same round trip as the document
(projections.batch_jobs.postgres_async), the handler's path asks `last_write`.

Writes that end together share one statement and one commit (service
.leader_batches, as group commit for events). A caller's row only ever rises
(GREATEST), whichever write commits first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.utils import retry

from service.leader_batches import LeaderBatches
from service.read_models.caller_positions import CallerPositions

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore

TABLE = "jobstream_caller_positions"
CREATE_SQL = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} "
    "(caller_id TEXT PRIMARY KEY, position BIGINT NOT NULL)"
)
# One row per caller, the highest position given for it in the batch.
RECORD_SQL = (
    f"INSERT INTO {TABLE} (caller_id, position) "  # noqa: S608 - constant names
    "SELECT caller_id, MAX(position) "
    "FROM unnest(%s::text[], %s::bigint[]) AS given(caller_id, position) "
    "GROUP BY caller_id "
    "ON CONFLICT (caller_id) DO UPDATE "
    f"SET position = GREATEST({TABLE}.position, EXCLUDED.position)"
)
LAST_WRITE_SQL = f"SELECT position FROM {TABLE} WHERE caller_id = %s"  # noqa: S608
CLAMP_SQL = f"UPDATE {TABLE} SET position = %s WHERE position > %s"  # noqa: S608
# As eventsourcing's recorders do: a pooled connection found broken (the database
# restarted, a cut healed) is dropped by the pool, and the statement sent again.
_reconnecting = retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)


def last_write_read(caller_id: str) -> tuple[str, list[Any]]:
    """The statement whose record (`position`, or none) is the caller's last write."""
    return LAST_WRITE_SQL, [caller_id]


class PostgresCallerPositions(CallerPositions):
    """The record in TABLE, over a pool of the read models' database (`datastore`)."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        self._datastore = datastore
        self._batches = LeaderBatches(self._write)

    @_reconnecting
    def create_table(self) -> None:
        """Create the table if it is missing (under the schema lock: see host)."""
        with self._datastore.transaction(commit=True) as curs:
            curs.execute(CREATE_SQL)

    @property
    def shared(self) -> bool:
        return True

    def record(self, caller_id: str, position: int) -> None:
        self._batches.run((caller_id, position))

    @_reconnecting
    def _write(self, batch: list[tuple[str, int]]) -> None:
        with self._datastore.transaction(commit=True) as curs:
            curs.execute(
                RECORD_SQL,
                ([caller for caller, _ in batch], [position for _, position in batch]),
            )

    @_reconnecting
    def last_write(self, caller_id: str) -> int | None:
        with self._datastore.transaction(commit=False) as curs:
            curs.execute(LAST_WRITE_SQL, (caller_id,))
            row = curs.fetchone()
        return 0 if row is None else int(row["position"])

    @_reconnecting
    def clamp(self, head: int) -> None:
        with self._datastore.transaction(commit=True) as curs:
            curs.execute(CLAMP_SQL, (head, head))
