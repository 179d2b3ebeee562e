"""The stores a process opens: connection pools, and one lock while tables are created."""

from __future__ import annotations

import contextlib
import fcntl
from typing import TYPE_CHECKING, Any

import psycopg
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from service import data_dir
from service.settings import Settings, storage_env

if TYPE_CHECKING:
    from collections.abc import Iterator


def pool_env(size: int) -> dict[str, str]:
    """Up to twice `size` connections, opened as load needs them.

    Bounded, so one process stays well under PostgreSQL's 100 connections; two kept
    open, so the many processes of a deployment (and of the tests) do not hold idle
    connections they would need only under load.
    """
    kept = min(size, 2)
    return {
        "POSTGRES_POOL_SIZE": str(kept),
        "POSTGRES_MAX_OVERFLOW": str(2 * size - kept),
    }


@contextlib.contextmanager
def schema_lock(settings: Settings) -> Iterator[None]:
    """Serialize table creation across processes starting together.

    eventsourcing creates tables and functions on start; on PostgreSQL two processes
    doing that at once fail ("tuple concurrently updated"), and on SQLite two
    recorders both record the tracking table's migration (IntegrityError).
    """
    if settings.database_url is None:
        data_dir.prepare(settings.data_path)
        with (settings.data_path / "schema.lock").open("a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)  # released when the file closes
            yield
        return
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext('jobstream-schema'))")
        yield  # the lock ends with the session


def infrastructure(
    settings: Settings, name: str, pool_size: int
) -> InfrastructureFactory[Any]:
    """The eventsourcing factory of one store (its own SQLite file, or the database)."""
    env = {**storage_env(settings, name), **pool_env(pool_size)}
    return InfrastructureFactory.construct(Environment(name, env))


def in_memory(name: str) -> InfrastructureFactory[Any]:
    """A factory of plain Python objects (eventsourcing's POPO): views for tests."""
    env = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    return InfrastructureFactory.construct(Environment(name, env))
