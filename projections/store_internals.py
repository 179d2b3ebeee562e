"""The one place that touches eventsourcing's private names (pinned: 9.5).

Jobstream needs a few things eventsourcing 9.5 does not offer publicly: a save that
holds the events table's lock outside psycopg's pipeline mode, inserts its events as
column arrays in binary and NOTIFYs its topics,
a bulk insert that takes the same lock (PostgreSQL) or the same insert (SQLite), a
tracking write inside a view's own transaction, and a hook that sees each save's
recordings. They all live here, behind a narrow typed API, so an upgrade of the
library is checked in one place: tests/integration/test_store_contract.py asserts
every name, signature, lock, row layout and call order this module relies on, and
docs/decisions/004-eventsourcing-internals.md says why each is needed.

It lives in projections/, the lowest layer that needs it (domain/ is pure), so both
projections/ and service/ import it; it imports nothing of Jobstream's.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from eventsourcing.application import Application
from eventsourcing.persistence import (
    ApplicationRecorder,
    InterfaceError,
    OperationalError,
)
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresTrackingRecorder,
)
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteDatastore,
    SQLiteTrackingRecorder,
)
from eventsourcing.utils import retry
from psycopg.sql import SQL, Composable, Composed, Identifier

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from eventsourcing.persistence import Recording, StoredEvent, Tracking
    from eventsourcing.sqlite import SQLiteCursor
    from psycopg import Cursor
    from psycopg.rows import DictRow

# The row eventsourcing keeps in every single-row tracking table; a table without it
# is taken for an old multi-row one and migrated (renamed) at the next start.
TRACKING_MIGRATION_MARK = "__migration__"


def tracking_migration_leftover(table: str, *, postgres: bool) -> str:
    """The name eventsourcing renames a tracking table to when it migrates it."""
    # PostgreSQL: `bkup1_<table>` cut to 63 bytes; SQLite: always `old1_tracking`.
    return f"bkup1_{table}"[:63] if postgres else f"old1_{table}"


# -- the events table ---------------------------------------------------------


def lock_events_table(recorder: PostgresApplicationRecorder, curs: Any) -> None:
    """Take the lock a save takes (EXCLUSIVE on the events table) in `curs`'s transaction.

    Held to the commit, so notification ids are issued in commit order and a reader
    never passes over an id that commits later.
    """
    recorder._lock_table(curs)  # noqa: SLF001


def on_each_sqlite_connection(datastore: SQLiteDatastore, statement: str) -> None:
    """Run `statement` (a PRAGMA) on every connection `datastore`'s pool opens from now.

    eventsourcing 9.5 opens its SQLite connections in a private pool method and sets
    only WAL mode; a per-connection pragma such as `synchronous` has no public hook.
    """
    pool = datastore.pool
    open_connection = pool._create_connection  # noqa: SLF001

    def open_with_statement() -> SQLiteConnection:
        connection = open_connection()
        connection._sqlite_conn.execute(statement)  # noqa: SLF001
        return connection

    pool._create_connection = open_with_statement  # type: ignore[method-assign]  # noqa: SLF001


def insert_stored_events(
    recorder: SQLiteApplicationRecorder,
    curs: SQLiteCursor,
    events: Sequence[StoredEvent],
) -> list[int]:
    """Insert `events` in `curs`'s transaction (SQLite); their notification ids in order."""
    ids = recorder._insert_events(curs, events)  # noqa: SLF001
    return [int(i) for i in ids or ()]


def notification_id_of(
    recorder: object, originator_id: str, version: int
) -> int | None:
    """The log position of one stored event (its notification id); None if not stored.

    eventsourcing reads events by aggregate without their positions, and the log by
    position without an aggregate filter: this looks the one row up by its key.
    """
    if isinstance(recorder, PostgresApplicationRecorder):
        statement: Any = SQL(
            "SELECT notification_id FROM {schema}.{table} "
            "WHERE originator_id = %s AND originator_version = %s"
        ).format(
            schema=Identifier(recorder.datastore.schema),
            table=Identifier(recorder.events_table_name),
        )
        datastore: Any = recorder.datastore
    elif isinstance(recorder, SQLiteApplicationRecorder):
        # SQLite's application table numbers its notifications by rowid.
        statement = (
            f"SELECT rowid AS notification_id FROM {recorder.events_table_name} "  # noqa: S608
            "WHERE originator_id = ? AND originator_version = ?"
        )
        datastore = recorder.datastore
    else:
        return _scanned_notification_id(recorder, originator_id, version)
    with datastore.transaction(commit=False) as curs:
        curs.execute(statement, (originator_id, version))
        row = curs.fetchone()
    return None if row is None else int(row["notification_id"])


def _scanned_notification_id(
    recorder: object, originator_id: str, version: int
) -> int | None:
    """The same, by reading the whole log: a store without a table (in memory)."""
    if not isinstance(recorder, ApplicationRecorder):
        raise TypeError(f"not an application recorder: {type(recorder).__name__}")
    start = 0
    while page := recorder.select_notifications(
        start, limit=1000, inclusive_of_start=False
    ):
        for notification in page:
            key = (str(notification.originator_id), notification.originator_version)
            if key == (originator_id, version):
                return notification.id
        start = page[-1].id
    return None


class UnpipelinedApplicationRecorder(PostgresApplicationRecorder):
    """The PostgreSQL recorder, saving in one plain transaction; NOTIFY is `save_notice`.

    eventsourcing 9.5 inserts a save inside a psycopg pipeline, which never returns for
    a save of a few MB (service.event_store). This does what its statements do (lock,
    insert, NOTIFY, read back the ids) without the pipeline, in fewer round trips, and
    leaves the NOTIFY's channel and payload to the subclass.
    """

    def save_notice(
        self, curs: Cursor[DictRow], topics: Collection[str]
    ) -> tuple[str, str]:
        """The channel to NOTIFY of a save of `topics`, and its payload's tail.

        The save sends `<its last notification id><tail>` on the channel with its
        insert, in `curs`'s transaction (delivered at the commit).
        """
        raise NotImplementedError

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Lock, notify, insert and read back the ids in one plain transaction."""
        if self.datastore.enable_db_functions:  # never on in Jobstream (stack notes)
            return cast(
                "Sequence[int] | None", super().insert_events(stored_events, **kwargs)
            )
        with self.datastore.get_connection() as conn, conn.transaction():
            with conn.cursor() as curs:
                # The parent's hook before the insert (a no-op in 9.5; kept in step).
                self._insert_events(curs, stored_events, **kwargs)
            if not stored_events:
                return []
            with conn.cursor() as curs:
                # Lock, insert and NOTIFY (the rows' ids come back).
                self._insert_stored_events(curs, stored_events, **kwargs)
                ids = [row["notification_id"] for row in curs.fetchall()]
                position = max(ids) if ids else None
                self.write_with_events(curs, position, **kwargs)
        self.after_commit(position, **kwargs)
        return ids

    def write_with_events(
        self, curs: Cursor[DictRow], position: int | None, **kwargs: Any
    ) -> None:
        """Write what must commit with the events (`kwargs` of the save); none here."""

    def after_commit(self, position: int | None, **kwargs: Any) -> None:
        """The save committed (`kwargs` as it was given); nothing to do here."""

    def _insert_stored_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> None:
        """The parent's lock, then one statement that inserts the events and NOTIFYs.

        Each statement of a save is a round trip, waited on by a thread that must
        then win the GIL back: the parent's six (begin, lock timeout, lock, insert,
        NOTIFY, commit) are four here. The parent sends the events as one array of
        its composite type, which psycopg dumps as text in Python (about 38 us an
        event); four arrays of the columns in binary insert the same rows, in the
        same order, at about 8 us an event.
        """
        self._lock_table(curs)
        channel, tail = self.save_notice(curs, {e.topic for e in stored_events})
        curs.execute(
            self._column_insert,
            (
                [event.originator_id for event in stored_events],
                [event.originator_version for event in stored_events],
                [event.topic for event in stored_events],
                [event.state for event in stored_events],
                channel,
                tail,
            ),
        )

    def _lock_table(self, curs: Cursor[DictRow]) -> None:
        """The parent's statements (lock timeout, EXCLUSIVE lock) in one round trip."""
        curs.execute(self._lock_in_one)

    @cached_property
    def _lock_in_one(self) -> bytes:
        # Without parameters, PostgreSQL takes several statements in one query.
        return b"; ".join(map(_query_bytes, self.lock_table_statements))

    @cached_property
    def _column_insert(self) -> Composed:
        # The save's ids, in insert order, each beside the NOTIFY's one call (the
        # same channel and payload in one transaction are delivered once).
        return SQL(
            "WITH saved AS ("
            "INSERT INTO {schema}.{table} AS t"
            " (originator_id, originator_version, topic, state)"
            " SELECT * FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[])"
            " RETURNING notification_id) "
            "SELECT notification_id, pg_notify("
            "%s::text, (SELECT max(notification_id) FROM saved)::text || %s::text) "
            "FROM saved ORDER BY notification_id"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
            id_type=Identifier(self.datastore.originator_id_type),
        )


def _query_bytes(query: object) -> bytes:
    if isinstance(query, Composable):
        return query.as_bytes(None)
    if isinstance(query, str):
        return query.encode()
    if isinstance(query, bytes):
        return query
    raise TypeError(f"not a plain statement: {type(query).__name__}")


# -- tracking -----------------------------------------------------------------


def insert_tracking(recorder: object, curs: Any, tracking: Tracking) -> None:
    """Record `tracking` in the caller's transaction (the recorder's own statement).

    `recorder` is a view whose bases include a backend's TrackingRecorder; the write
    refuses to move the position back (IntegrityError), as `insert_tracking` does.
    """
    if not isinstance(recorder, PostgresTrackingRecorder | SQLiteTrackingRecorder):
        raise TypeError(f"{type(recorder).__name__} is not a tracking recorder")
    recorder._insert_tracking(curs, tracking)  # noqa: SLF001


# -- the application ----------------------------------------------------------


class SaveHookApplication(Application[str]):
    """An application that hands each save's recordings to `saved` (in the saver's thread)."""

    def saved(self, recordings: Sequence[Recording[str]]) -> None:
        """Called after every save with what it recorded; does nothing by default."""

    def _notify(self, recordings: list[Recording[str]]) -> None:
        self.saved(recordings)
