"""Who leads the relay of this deployment's stream, as the system page shows it."""

from __future__ import annotations

import contextlib
import fcntl
import socket
from typing import TYPE_CHECKING

import psycopg
from psycopg import errors

from service import pg_timeouts
from service.stream_names import relay_lease_name, relay_lock_path

if TYPE_CHECKING:
    from service.settings import Settings

_LEADER = (
    "SELECT holder FROM jobstream_leadership WHERE name = %s AND expires_at > now()"
)


def relay_leader(settings: Settings) -> str | None:
    """The leading relay's holder name; None when no relay leads.

    PostgreSQL: the unexpired lease's holder. Embedded: the relay's file lock is
    held by a process of this machine (its name is not recorded): the host's name.
    """
    if settings.database_url is not None:
        with psycopg.connect(pg_timeouts.with_timeouts(settings.database_url)) as conn:
            try:
                row = conn.execute(_LEADER, (relay_lease_name(settings),)).fetchone()
            except errors.UndefinedTable:
                return None  # no relay has ever run against this database
        return None if row is None else str(row[0])
    path = relay_lock_path(settings)
    if not path.exists():
        return None
    with path.open("rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return socket.gethostname()
        with contextlib.suppress(OSError):
            fcntl.flock(handle, fcntl.LOCK_UN)
    return None
