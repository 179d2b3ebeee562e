"""Bulk access to the event store: many aggregates in one query, many saves in one commit.

The eventsourcing recorders read one aggregate per query and write one save per
transaction. An import touches tens of thousands of aggregates and must commit them
all or none: one query per aggregate costs a round trip each (76% of an import's time
on PostgreSQL, measured), and one save holding every event needs them all in memory.
These two functions use the recorders' own tables, statements and locks, so what they
write is read back, tracked and relayed like any other save.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier

from projections.store_internals import insert_stored_events, lock_events_table
from service.batching import batched
from service.event_store import notify_topics

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from eventsourcing.application import Application

READ_CHUNK = 500  # ids per query: well under SQLite's bound-parameter limit


def read_events(
    app: Application[str], ids: Iterable[str]
) -> dict[str, list[StoredEvent]]:
    """The stored events of each id that has any, in version order."""
    found: dict[str, list[StoredEvent]] = {}
    for chunk in batched(sorted(set(ids)), READ_CHUNK):
        for row in _select(app, chunk):
            event = StoredEvent(
                originator_id=row[0],
                originator_version=row[1],
                topic=row[2],
                state=bytes(row[3]),
            )
            found.setdefault(str(event.originator_id), []).append(event)
    return found


def _copy_in_one_transaction(
    recorder: PostgresApplicationRecorder, batches: Iterable[Sequence[StoredEvent]]
) -> int:
    """COPY in binary: psycopg's composite-array insert spends more in Python."""
    table = SQL("{schema}.{table}").format(
        schema=Identifier(recorder.datastore.schema),
        table=Identifier(recorder.events_table_name),
    )
    copy_in = SQL(
        "COPY {table} (originator_id, originator_version, topic, state) "
        "FROM STDIN (FORMAT BINARY)"
    ).format(table=table)
    types = [recorder.datastore.originator_id_type, "int8", "text", "bytea"]
    with (
        recorder.datastore.get_connection() as conn,
        conn.transaction(),
        conn.cursor() as curs,
    ):
        lock_events_table(recorder, curs)  # the save's own lock
        topics: set[str] = set()
        with curs.copy(copy_in) as copy:
            copy.set_types(types)
            for batch in batches:
                for event in batch:
                    topics.add(event.topic)
                    copy.write_row(
                        (event.originator_id, event.originator_version,
                         event.topic, event.state)
                    )  # fmt: skip
        # The lock is held: the newest ids are this transaction's.
        curs.execute(SQL("SELECT max(notification_id) AS last FROM {0}").format(table))
        row = curs.fetchone()
        last = int(row["last"] or 0) if row else 0
        own = getattr(recorder, "own_backends", None)
        notify_topics(curs, recorder.channel_name, topics, last, own)  # at the commit
        return last


def _select(app: Application[str], ids: list[str]) -> list[tuple[Any, ...]]:
    recorder = app.recorder
    if isinstance(recorder, PostgresApplicationRecorder):
        statement = SQL(
            "SELECT originator_id, originator_version, topic, state "
            "FROM {schema}.{table} WHERE originator_id = ANY(%s) "
            "ORDER BY originator_id, originator_version"
        ).format(
            schema=Identifier(recorder.datastore.schema),
            table=Identifier(recorder.events_table_name),
        )
        with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (ids,))
            return [
                (r["originator_id"], r["originator_version"], r["topic"], r["state"])
                for r in curs.fetchall()
            ]
    if isinstance(recorder, SQLiteApplicationRecorder):
        marks = ",".join("?" * len(ids))
        query = (
            "SELECT originator_id, originator_version, topic, state "  # noqa: S608 - the recorder's own table; ids are bound
            f"FROM {recorder.events_table_name} WHERE originator_id IN ({marks}) "
            "ORDER BY originator_id, originator_version"
        )
        with recorder.datastore.transaction(commit=False) as curs:
            curs.execute(query, ids)
            return [tuple(row) for row in curs.fetchall()]
    raise TypeError(f"no bulk read for {type(recorder).__name__}")


def insert_in_one_transaction(
    app: Application[str], batches: Iterable[Sequence[StoredEvent]]
) -> int:
    """Insert every batch in one transaction; the last notification id (0: none).

    `batches` is consumed inside the transaction, so it can stream from a file: only
    one batch is in memory at a time. A version already taken (another writer changed
    one of these aggregates meanwhile) raises IntegrityError and nothing is written.
    On PostgreSQL the events table is locked once, as a save locks it, so readers
    never pass over ids that commit later.
    """
    recorder = app.recorder
    if isinstance(recorder, PostgresApplicationRecorder):
        return _copy_in_one_transaction(recorder, batches)
    if isinstance(recorder, SQLiteApplicationRecorder):
        last = 0
        with recorder.datastore.transaction(commit=True) as curs:
            for batch in batches:
                last = max(insert_stored_events(recorder, curs, batch) or [last])
        return last
    raise TypeError(f"no bulk insert for {type(recorder).__name__}")
