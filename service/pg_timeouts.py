"""How long a PostgreSQL connection may wait on a peer that went silent.

A host cut off from the network does not close its sockets: without these, a
connection attempt waits for the kernel's SYN retries (minutes) and a query on an
open connection for TCP's retransmissions (15 minutes on Linux), whatever the
database does. With them, a connection is given up within a few seconds:

- `connect_timeout`: a connection attempt (libpq counts whole seconds);
- `tcp_user_timeout`: data sent and not acknowledged by the peer (a query, a commit);
- keepalives: an idle connection, or one waiting on an answer, whose peer went quiet.

The server's side has the same problem the other way round: a session whose client
was cut off mid-transaction stays open on the server, holding its row locks, until
the server's own keepalives (two hours by default) notice. The client reconnects
within seconds and its next transaction waits on those locks for good (a projection
that never moves again). So each session also asks the server for the same
keepalives (`options`: `tcp_keepalives_*`, settable per session): the server ends a
session whose client went silent, and frees its locks, as fast as the client gives up.

Every connection Jobstream opens uses them: eventsourcing's pools
(`service.pg_factory`), the sessions' pool, the relay's leadership lease, /health's
probe and the LISTEN connections.
"""

from __future__ import annotations

from psycopg.conninfo import conninfo_to_dict, make_conninfo

CONNECT_TIMEOUT_SECONDS = 2
TCP_USER_TIMEOUT_MS = 3_000
KEEPALIVES_IDLE_SECONDS = 1
KEEPALIVES_INTERVAL_SECONDS = 1
KEEPALIVES_COUNT = 2
# The longest a pool's caller waits for a free connection before OperationalError.
POOL_WAIT_SECONDS = 5


# The server's keepalives for this session, as the client's (libpq's `options`).
SERVER_KEEPALIVES = (
    f"-c tcp_keepalives_idle={KEEPALIVES_IDLE_SECONDS}"
    f" -c tcp_keepalives_interval={KEEPALIVES_INTERVAL_SECONDS}"
    f" -c tcp_keepalives_count={KEEPALIVES_COUNT}"
)


def connection_kwargs(
    connect_timeout: int = CONNECT_TIMEOUT_SECONDS, options: str = ""
) -> dict[str, int | str]:
    """The libpq keywords, for a pool's `kwargs`; `options`: the caller's own, kept."""
    return {
        "connect_timeout": connect_timeout,
        "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
        "keepalives": 1,
        "keepalives_idle": KEEPALIVES_IDLE_SECONDS,
        "keepalives_interval": KEEPALIVES_INTERVAL_SECONDS,
        "keepalives_count": KEEPALIVES_COUNT,
        "options": f"{options} {SERVER_KEEPALIVES}".strip(),
    }


def with_timeouts(conninfo: str, connect_timeout: int = CONNECT_TIMEOUT_SECONDS) -> str:
    """`conninfo` (a URL or key=value string) with the timeouts above added."""
    options = conninfo_to_dict(conninfo).get("options") or ""
    return make_conninfo(conninfo, **connection_kwargs(connect_timeout, str(options)))
