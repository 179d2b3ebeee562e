"""eventsourcing's PostgreSQL factory, with connections that give up on a silent peer.

eventsourcing 9.5 passes only the database, host, port, user and password to its
pool's connections; a connection to a host cut off from the network then waits for
TCP's own timeouts (minutes). This factory adds the keywords of service.pg_timeouts
to every connection its pool opens: psycopg_pool reads `pool.kwargs` on each connect,
and the pool opens none before first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.postgres import PostgresFactory

from service import pg_timeouts

if TYPE_CHECKING:
    from eventsourcing.utils import Environment, EnvType

TOPIC = "service.pg_factory:TimeoutPostgresFactory"


class TimeoutPostgresFactory(PostgresFactory):
    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        kwargs = self.datastore.pool.kwargs
        assert isinstance(kwargs, dict)  # noqa: S101 - eventsourcing sets a dict
        kwargs.update(pg_timeouts.connection_kwargs(options=kwargs.get("options", "")))
