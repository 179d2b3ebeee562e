"""The PostgreSQL event recorder, without psycopg's pipeline mode for inserts.

eventsourcing 9.5 inserts a save's events as one statement inside a psycopg
pipeline. With a large save (thousands of events, a few MB: an import of 10,000
products) that pipeline never returns (psycopg 3.3, reproduced: 10,000 events of 2 KB
hang, 2,500 save in 0.6 s), and it hangs holding the events table's lock, so every
other writer waits too. The same statements outside pipeline mode cost two more
round trips (lock, notify) and never hang.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry

if TYPE_CHECKING:
    from collections.abc import Sequence

    from eventsourcing.persistence import StoredEvent

TOPIC = "service.event_store:UnpipelinedPostgresRecorder"


class UnpipelinedPostgresRecorder(PostgresApplicationRecorder):
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
                self._insert_events(curs, stored_events, **kwargs)
            if not stored_events:
                return []
            with conn.cursor() as curs:
                self._insert_stored_events(curs, stored_events, **kwargs)
                return self._fetch_ids_after_insert_events(
                    curs, stored_events, **kwargs
                )
