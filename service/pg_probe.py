"""Is PostgreSQL answering? One quick connection of its own, for /health.

The stores' pools wait for a connection up to POSTGRES_CONNECT_TIMEOUT (30 s) and
eventsourcing retries that ten times: a probe through them hangs for minutes while
the server is down, and /health with it. This one gives up after `timeout` seconds;
where the process keeps a gate on the database (the API does), it answers from the
gate's last probe at once, without connecting (service.db_gate).
"""

from __future__ import annotations

import psycopg

from service import pg_timeouts
from service.db_gate import gate_on

PROBE_TIMEOUT = 2  # seconds (libpq's connect_timeout is whole seconds)


def postgres_down(database_url: str, timeout: int = PROBE_TIMEOUT) -> str | None:
    """None if PostgreSQL answers `SELECT 1` within `timeout`; else why not."""
    gate = gate_on(database_url)
    if gate is not None:
        return gate.down()
    try:
        with psycopg.connect(
            pg_timeouts.with_timeouts(database_url, timeout),
            options=f"-c statement_timeout={timeout * 1000}",
        ) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        return f"down: PostgreSQL does not answer ({type(error).__name__})"
    return None
