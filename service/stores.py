"""The stores a process opens: connection pools, and one lock while tables are created."""

from __future__ import annotations

import contextlib
import fcntl
import uuid
from typing import TYPE_CHECKING, Any

import psycopg
from eventsourcing.persistence import InfrastructureFactory, TrackingRecorder
from eventsourcing.popo import POPOTrackingRecorder
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


def in_memory_view(name: str, view_class: type[TrackingRecorder]) -> TrackingRecorder:
    """A view kept in this process's memory, for fast tests of projections.

    A plain Python view (eventsourcing's POPO) as it is; a SQL view on a SQLite
    database in memory (eventsourcing's memory mode), of its own: the same SQL as
    the embedded view, no file.
    """
    if issubclass(view_class, POPOTrackingRecorder):
        env = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    else:
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": f"file:{name}-{uuid.uuid4().hex}?mode=memory&cache=shared",
        }
    factory = InfrastructureFactory.construct(Environment(name, env))
    return factory.tracking_recorder(view_class)
