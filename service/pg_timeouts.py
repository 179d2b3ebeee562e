"""How long a PostgreSQL connection may wait on a peer that went silent.

A host cut off from the network does not close its sockets: without these, a
connection attempt waits for the kernel's SYN retries (minutes) and a query on an
open connection for TCP's retransmissions (15 minutes on Linux), whatever the
database does. With them, a connection is given up within a few seconds:

- `connect_timeout`: a connection attempt (libpq counts whole seconds);
- `tcp_user_timeout`: data sent and not acknowledged by the peer (a query, a commit);
- keepalives: an idle connection, or one waiting on an answer, whose peer went quiet.

Every connection Jobstream opens uses them: eventsourcing's pools
(`service.pg_factory`), the sessions' pool, the relay's leadership lease, /health's
probe and the LISTEN connections.
"""

from __future__ import annotations

from psycopg.conninfo import make_conninfo

CONNECT_TIMEOUT_SECONDS = 2
TCP_USER_TIMEOUT_MS = 3_000
KEEPALIVES_IDLE_SECONDS = 1
KEEPALIVES_INTERVAL_SECONDS = 1
KEEPALIVES_COUNT = 2
# The longest a pool's caller waits for a free connection before OperationalError.
POOL_WAIT_SECONDS = 5


def connection_kwargs(connect_timeout: int = CONNECT_TIMEOUT_SECONDS) -> dict[str, int]:
    """The libpq keywords, for a pool's `kwargs`."""
    return {
        "connect_timeout": connect_timeout,
        "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
        "keepalives": 1,
        "keepalives_idle": KEEPALIVES_IDLE_SECONDS,
        "keepalives_interval": KEEPALIVES_INTERVAL_SECONDS,
        "keepalives_count": KEEPALIVES_COUNT,
    }


def with_timeouts(conninfo: str, connect_timeout: int = CONNECT_TIMEOUT_SECONDS) -> str:
    """`conninfo` (a URL or key=value string) with the timeouts above added."""
    return make_conninfo(conninfo, **connection_kwargs(connect_timeout))
