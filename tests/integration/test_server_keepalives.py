"""Each session asks the server for the client's keepalives (service.pg_timeouts).

A session whose client is cut off mid-transaction would otherwise hold its locks
for the server's default two hours, and the reconnected client would wait on them
(the partition tests' projection that never moved again after a database cut).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from service import pg_timeouts
from service.pg_factory import TimeoutPostgresFactory
from tests.conftest import create_database, drop_database

pytestmark = pytest.mark.integration
EXPECTED = {
    "tcp_keepalives_idle": str(pg_timeouts.KEEPALIVES_IDLE_SECONDS),
    "tcp_keepalives_interval": str(pg_timeouts.KEEPALIVES_INTERVAL_SECONDS),
    "tcp_keepalives_count": str(pg_timeouts.KEEPALIVES_COUNT),
}


@pytest.fixture
def database_url() -> Iterator[str]:
    name = f"jobstream_keepalives_{uuid.uuid4().hex[:8]}"
    url = create_database(name)
    try:
        yield url
    finally:
        drop_database(name)


def server_keepalives(conn: Any) -> dict[str, str]:
    """The session's keepalive settings, as the server reports them (any row type)."""
    found = {}
    for name in EXPECTED:
        row = conn.execute(f"SHOW {name}").fetchone()
        found[name] = str(row[name] if isinstance(row, dict) else row[0])
    return found


def test_a_connection_made_with_timeouts_sets_the_servers_keepalives(
    database_url: str,
) -> None:
    with psycopg.connect(pg_timeouts.with_timeouts(database_url)) as conn:
        assert server_keepalives(conn) == EXPECTED


def test_the_callers_own_options_are_kept_beside_them(database_url: str) -> None:
    url = f"{database_url}?options=-c%20statement_timeout%3D4321"
    with psycopg.connect(pg_timeouts.with_timeouts(url)) as conn:
        assert server_keepalives(conn) == EXPECTED
        assert conn.execute("SHOW statement_timeout").fetchone() == ("4321ms",)


def test_eventsourcings_pooled_connections_set_them_too(database_url: str) -> None:
    info = psycopg.conninfo.conninfo_to_dict(database_url)
    factory = TimeoutPostgresFactory(
        {
            "POSTGRES_DBNAME": str(info["dbname"]),
            "POSTGRES_HOST": str(info.get("host", "127.0.0.1")),
            "POSTGRES_PORT": str(info.get("port", 5432)),
            "POSTGRES_USER": str(info.get("user", "postgres")),
            "POSTGRES_PASSWORD": str(info.get("password", "")),
        }
    )
    try:
        with factory.datastore.get_connection() as conn:
            assert server_keepalives(conn) == EXPECTED
    finally:
        factory.close()
