"""A PostgreSQL transaction whose statements go out together (psycopg's pipeline mode).

A read model's round is a few small writes (rows, counts, tracking, a NOTIFY) and a
commit. One round trip each, every answer waited for on a thread that must take the
GIL back each time, cost a round 5-7 ms under the API's load where the statements
need well under one. In pipeline mode the writes are queued and sent with the
commit; a read in the transaction (`fetch*`) still waits for its answer. Errors
surface at the latest at the commit, inside the datastore's connection context,
which turns them into eventsourcing's exceptions as before.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from eventsourcing.postgres import PostgresDatastore
    from psycopg import Cursor
    from psycopg.rows import DictRow


@contextlib.contextmanager
def pipelined_transaction(datastore: PostgresDatastore) -> Iterator[Cursor[DictRow]]:
    """A committing transaction in pipeline mode, on a connection of `datastore`."""
    with datastore.get_connection() as conn, conn.pipeline(), conn.transaction():
        yield conn.cursor()
