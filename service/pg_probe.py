"""Is PostgreSQL answering? One quick connection of its own, for /health.

The stores' pools wait for a connection up to POSTGRES_CONNECT_TIMEOUT (30 s) and
eventsourcing retries that ten times: a probe through them hangs for minutes while
the server is down, and /health with it. This one gives up after `timeout` seconds.
"""

from __future__ import annotations

import psycopg

PROBE_TIMEOUT = 2  # seconds (libpq's connect_timeout is whole seconds)


def postgres_down(database_url: str, timeout: int = PROBE_TIMEOUT) -> str | None:
    """None if PostgreSQL answers `SELECT 1` within `timeout`; else why not."""
    try:
        with psycopg.connect(
            database_url,
            connect_timeout=timeout,
            options=f"-c statement_timeout={timeout * 1000}",
        ) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        return f"down: PostgreSQL does not answer ({type(error).__name__})"
    return None
