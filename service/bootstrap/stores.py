"""How the process-wide stores are built from Settings: the event store and sessions.

Connection pools and the schema lock are `service.stores`'; read models' views are
the read-model host's (`service.read_models.host`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from service.application import Jobstream
from service.auth.sessions import PostgresSessionStore, SessionStore, SQLiteSessionStore
from service.settings import storage_env
from service.stores import infrastructure, pool_env, schema_lock

if TYPE_CHECKING:
    from service.settings import Settings

__all__ = ["build_app", "build_sessions", "infrastructure", "schema_lock"]


def build_app(settings: Settings) -> Jobstream:
    """The event store's application. A process needs one: see `Bootstrap.app`."""
    with schema_lock(settings):
        return Jobstream(env={**storage_env(settings, "events"), **pool_env(8)})


def build_sessions(settings: Settings) -> SessionStore:
    ttl = settings.session_ttl_seconds
    if settings.database_url is not None:
        return PostgresSessionStore(settings.database_url, ttl)
    return SQLiteSessionStore(settings.data_path / "sessions.sqlite", ttl)
