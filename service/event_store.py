"""The PostgreSQL event recorder: no pipeline mode for inserts; NOTIFY names topics.

eventsourcing 9.5 inserts a save's events as one statement inside a psycopg
pipeline. With a large save (thousands of events, a few MB: an import of 10,000
products) that pipeline never returns (psycopg 3.3, reproduced: 10,000 events of 2 KB
hang, 2,500 save in 0.6 s), and it hangs holding the events table's lock, so every
other writer waits too. The same statements outside pipeline mode cost two more
round trips (lock, notify) and never hang.

eventsourcing's NOTIFY carries no payload, so every listening process woke every
runner on every save. Ours names the save's topics, and a runner wakes only for
topics it follows (`NotificationListener`, `CatchUpRunner.wake_for`). It also names
the save's last position (`<position>@<topics>`), so a process learns the log's head
from the notifications instead of a query per read (service.read_models.head).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from psycopg.sql import SQL

from projections.store_internals import UnpipelinedApplicationRecorder
from service.read_models import postgres_callers

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence

    from psycopg import Cursor
    from psycopg.rows import DictRow

TOPIC = "service.event_store:UnpipelinedPostgresRecorder"
# PostgreSQL's payload limit is 8000 bytes; a longer list is sent empty: "wake all".
MAX_PAYLOAD = 7_000
TOPIC_SEPARATOR = ","
POSITION_SEPARATOR = "@"  # in no topic (`module:QualName`)


class OwnBackends:
    """The PostgreSQL sessions through which this application NOTIFYs its saves.

    Its process tells its own listeners of each save directly
    (`Jobstream.notify_saved`), so the same save heard back from PostgreSQL is
    nothing new: its NOTIFY's sender (`Notify.pid`, the backend's pid) is one of
    these. A connection is held weakly and only while open, so a pid PostgreSQL
    later gives another process's session is not taken for ours.
    """

    def __init__(self) -> None:
        self._connections: weakref.WeakValueDictionary[int, Any] = (
            weakref.WeakValueDictionary()
        )

    def add(self, connection: Any) -> None:
        self._connections[connection.info.backend_pid] = connection

    def __contains__(self, pid: object) -> bool:
        connection = self._connections.get(pid) if isinstance(pid, int) else None
        return connection is not None and not connection.closed


def notify_topics(
    curs: Cursor[DictRow],
    channel: str,
    topics: Collection[str],
    position: int | None = None,
    own: OwnBackends | None = None,
) -> None:
    """NOTIFY `channel` with the saved topics and last position (delivered at commit).

    `own`: the sending application's sessions, which this one joins.
    """
    if own is not None:
        own.add(curs.connection)
    payload = topics_payload(topics)
    if position is not None:
        payload = f"{position}{POSITION_SEPARATOR}{payload}"
    curs.execute(SQL("SELECT pg_notify(%s, %s)"), (channel, payload))


def topics_payload(topics: Collection[str]) -> str:
    """The topics as a NOTIFY names them; none (any topic) past MAX_PAYLOAD."""
    payload = TOPIC_SEPARATOR.join(sorted(topics))
    return "" if len(payload.encode()) > MAX_PAYLOAD else payload


def topics_of(payload: str) -> list[str] | None:
    """The topics a NOTIFY names; None (any topic) if it names none."""
    topics = (
        payload.partition(POSITION_SEPARATOR)[2] if _positioned(payload) else payload
    )
    return topics.split(TOPIC_SEPARATOR) if topics else None


def position_of(payload: str) -> int | None:
    """The last position of the save a NOTIFY tells of; None if it names none."""
    return (
        int(payload.partition(POSITION_SEPARATOR)[0]) if _positioned(payload) else None
    )


def _positioned(payload: str) -> bool:
    head, found, _ = payload.partition(POSITION_SEPARATOR)
    return bool(found) and head.isdigit()


class UnpipelinedPostgresRecorder(UnpipelinedApplicationRecorder):
    """Saves outside pipeline mode (projections.store_internals); NOTIFY names topics.

    A save given `callers` (ids of the users whose writes it stores) raises their
    slots in the callers' table to its last position, in its own transaction
    (service.read_models.postgres_callers), then tells `callers_saved`.
    """

    # The group commit passes `callers` to saves only where the recorder takes them.
    records_callers = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.callers_table = postgres_callers.table_of(self.events_table_name)
        self.sql_create_statements.append(
            SQL(postgres_callers.create_statement(self.callers_table))  # type: ignore[arg-type]
        )
        self._raise_callers = postgres_callers.raise_statement(self.callers_table)
        self.callers_saved: list[Callable[[Sequence[int], int], None]] = []
        self.own_backends = OwnBackends()

    def write_with_events(
        self, curs: Cursor[DictRow], position: int | None, **kwargs: Any
    ) -> None:
        callers = kwargs.get("callers")
        if callers and position is not None:
            slots = postgres_callers.slots_of(callers)
            curs.execute(self._raise_callers, (position, slots), prepare=True)

    def after_commit(self, position: int | None, **kwargs: Any) -> None:
        callers = kwargs.get("callers")
        if callers and position is not None:
            slots = postgres_callers.slots_of(callers)
            for listener in self.callers_saved:
                listener(slots, position)

    def save_notice(
        self, curs: Cursor[DictRow], topics: Collection[str]
    ) -> tuple[str, str]:
        """`<last position>@<topics>` on the events' channel, from one of our sessions."""
        self.own_backends.add(curs.connection)
        return self.channel_name, POSITION_SEPARATOR + topics_payload(topics)
