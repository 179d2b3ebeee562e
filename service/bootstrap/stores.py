"""How each store is built from Settings: the event store, views, sessions, positions."""

from __future__ import annotations

import contextlib
import fcntl
from typing import TYPE_CHECKING, Any

import psycopg
import structlog
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from projections.batch_jobs.postgres import PostgresBatchJobsView
from projections.batch_jobs.sqlite import SQLiteBatchJobsView
from service import data_dir
from service.application import Jobstream
from service.auth.sessions import PostgresSessionStore, SessionStore, SQLiteSessionStore
from service.catalog.readmodel import CatalogReadModel
from service.settings import storage_env

if TYPE_CHECKING:
    from collections.abc import Iterator

    from projections.batch_jobs.view import BatchJobsView
    from service.settings import Settings

log = structlog.get_logger("bootstrap")


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


def build_app(settings: Settings) -> Jobstream:
    """The event store's application. A process needs one: see `Bootstrap.app`."""
    with schema_lock(settings):
        return Jobstream(env={**storage_env(settings, "events"), **pool_env(8)})


def infrastructure(
    settings: Settings, name: str, pool_size: int
) -> InfrastructureFactory[Any]:
    """The eventsourcing factory of one store (its own SQLite file, or the database)."""
    env = {**storage_env(settings, name), **pool_env(pool_size)}
    return InfrastructureFactory.construct(Environment(name, env))


def build_view(
    settings: Settings, factory: InfrastructureFactory[Any], *, owner: bool
) -> BatchJobsView:
    """The batch-jobs view; its `owner` (the projection's process) rebuilds it."""
    view_class: type[Any] = (
        PostgresBatchJobsView if settings.is_postgres else SQLiteBatchJobsView
    )
    with schema_lock(settings):
        view: BatchJobsView = factory.tracking_recorder(view_class)
        if owner and view.rebuild_if_outdated():
            log.warning("runtime.read_model_rebuilding", reason="columns changed")
    return view


def catalog_read_model(
    app: Jobstream, settings: Settings, *, project: bool, pool_size: int = 4
) -> CatalogReadModel:
    """The catalog view, kept here (`project`) or read as another process keeps it."""
    with schema_lock(settings):
        return CatalogReadModel(
            app=app,
            factory=infrastructure(settings, "catalog", pool_size=pool_size),
            postgres=settings.is_postgres,
            project=project,
            timeout=settings.read_your_writes_timeout,
        )


def build_sessions(settings: Settings) -> SessionStore:
    ttl = settings.session_ttl_seconds
    if settings.database_url is not None:
        return PostgresSessionStore(settings.database_url, ttl)
    return SQLiteSessionStore(settings.data_path / "sessions.sqlite", ttl)
