"""One Settings struct, loaded once from the environment and passed down."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote, urlsplit

import msgspec

from service import (
    data_dir,
    event_store,
    pg_factory,
    pg_timeouts,
    settings_checks,
    sqlite_factory,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

PREFIX = "JOBSTREAM_"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Every knob, with its default. `JOBSTREAM_<FIELD>` overrides each one."""

    data_dir: str = "./var"
    host: str = "127.0.0.1"
    port: int = 9000
    database_url: str | None = None
    # Embedded event log: "full" syncs every commit to disk; "normal" only at
    # checkpoints (a power cut may lose the last commits; a crashed process cannot).
    sqlite_synchronous: Literal["full", "normal"] = "full"
    jwt_secret: str | None = None
    cookie_secret: str | None = None
    log_level: str = "info"
    log_format: Literal["auto", "json", "console"] = "auto"
    # Jobs `serve`'s engine works on at once. Their writes share the event log's
    # commits (group commit), whose fsync bounds a short job's rate: 4 at once
    # managed ~420 no-op jobs/s here, 16 ~600-940, 32 ~1,250-1,350 (ADR 010).
    processor_threads: int = 32
    max_processing_attempts: int = 3
    read_your_writes_timeout: float = 5.0
    # Across processes on PostgreSQL, read-model positions arrive by NOTIFY; a read
    # also looks at the store this often, in case a notification was lost.
    read_model_poll_seconds: float = 1.0
    session_ttl_seconds: int = 36_000  # Medusa's express-session default: 10 h
    secure_cookies: bool = False
    # NATS JetStream: set the URL to publish events (`jobstream relay`).
    nats_url: str | None = None
    nats_stream: str = "JOBSTREAM"
    nats_subject_prefix: str = "jobstream"
    nats_replicas: int = 1  # of the stream, when the relay creates it (3 on a cluster)
    # The stream's limits (JetStream drops the oldest messages past them); 0: none.
    # Unset: a new stream has none and an existing one keeps what it was given.
    stream_max_age_hours: float | None = None
    stream_max_bytes: int | None = None
    # A cut-off relay leader is replaced within this many seconds (its lease, renewed
    # every third of it, plus a standby's poll); it stops publishing before that.
    relay_leadership_seconds: float = 15.0
    # Workers (`jobstream worker`): a shared durable consumer per work subject.
    worker_durable: str = "jobstream-workers"
    # Jobs at once per work subject (pre-processing and processing each).
    worker_concurrency: int = 64
    # No heartbeat for this long and the job goes to another worker.
    lease_seconds: float = 30.0
    # Deliveries of one message, at most; -1: no limit. The job's own attempts are
    # bounded by max_processing_attempts, counted in the event store, so a lost
    # delivery count never drops a job (a job waiting on a type limit is redelivered).
    max_deliveries: int = -1
    # A job whose lease lapsed this long ago, not taken up again, is failed (reaper).
    stuck_job_seconds: float = 300.0
    # A job waiting this long for a worker, while the work consumers hold no message
    # at all, lost its message: the relay publishes its work again.
    work_redrive_seconds: float = 60.0
    # Jobs of a type one process runs at once, e.g. "product-import=1,product-export=8",
    # in place of strategies.limits.DEFAULT_LIMITS for the types it names.
    type_concurrency: str = ""
    # Medusa's ADMIN_CORS: origins of admin UIs, comma-separated; /…/ is a regex.
    admin_cors: str = "http://localhost:7000,http://localhost:7001"
    # Files (uploads, exports, imports): "local" keeps them under <data_dir>/uploads,
    # "nats" in a JetStream object store; unset: "nats" if nats_url is set, else local.
    file_store: Literal["local", "nats"] | None = None
    file_bucket: str = "jobstream-files"  # the object store's bucket
    upload_max_bytes: int = 50 * 1024 * 1024  # per uploaded file
    # Exports and error reports are removed this long after they were written, and
    # uploads no unfinished job uses this long after they were uploaded; 0: kept.
    file_retention_hours: float = 168.0
    upload_retention_hours: float = 24.0
    # A whole upload request: the largest file and its multipart framing.
    upload_max_request_bytes: int = 51 * 1024 * 1024
    upload_max_parts: int = 20  # parts of one upload request (files and text fields)
    # Processes serving HTTP (`serve`, `api`); 0: one per core. In `serve` one of them
    # also projects and runs jobs; the others answer requests.
    http_workers: int = 0
    # A client must send a request's line and headers within this many seconds.
    header_timeout_seconds: float = 10.0
    download_url_ttl_seconds: int = 900  # signed download URLs (S3's presign default)
    # The public base of file URLs, e.g. https://api.shop.io; unset: the request's own.
    backend_url: str | None = None
    # Failed logins in a sliding window, counted in each process's memory; past either
    # limit a login answers 429 until the window lets it through (0: no limit).
    login_failures_per_account: int = 10
    login_failures_per_address: int = 50
    login_failure_window_seconds: float = 900.0
    # Password checks run on threads of their own (0: one less than the cores, at
    # least one); at most `queue` more wait, each at most `wait_seconds`, else 503.
    login_hash_threads: int = 0
    login_hash_queue: int = 128
    login_hash_wait_seconds: float = 3.0
    # GET /metrics also answers `Authorization: Bearer <this>` (a scraper has no
    # login); unset, it needs an admin's login like the admin routes.
    metrics_token: str | None = None

    @property
    def is_postgres(self) -> bool:
        return self.database_url is not None

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def http_processes(self) -> int:
        return self.http_workers or os.cpu_count() or 1


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the `JOBSTREAM_*` variables this struct knows; convert and check each.

    A value of the wrong type or out of range raises `SettingsError` naming its variable.
    """
    source = os.environ if environ is None else environ
    types = {field.name: field.type for field in msgspec.structs.fields(Settings)}
    values = {
        name: settings_checks.convert(key, value, types[name])
        for key, value in source.items()
        if key.startswith(PREFIX)
        and (name := key[len(PREFIX) :].lower()) in types
        # An empty value means "not set" (as `KEY=` in an env file usually intends).
        and value != ""
    }
    settings = Settings(**values)
    settings_checks.check(settings)
    return settings


def nats_servers(nats_url: str) -> list[str]:
    """JOBSTREAM_NATS_URL may name several nodes of a cluster, comma-separated."""
    return [url.strip() for url in nats_url.split(",") if url.strip()]


def postgres_env(database_url: str) -> dict[str, str]:
    """The POSTGRES_* keys eventsourcing reads, from a `postgresql://` URL."""
    parts = urlsplit(database_url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ValueError(
            f"JOBSTREAM_DATABASE_URL must be postgresql://…, got {parts.scheme}://"
        )
    return {
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        # The key must exist even with trust auth (eventsourcing raises otherwise).
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
    }


EVENT_LOG = "events"  # the store that is the record (the others are derived)


def storage_env(settings: Settings, store: str) -> dict[str, str]:
    """The eventsourcing env of one store: its own SQLite file, or the one database."""
    common = {"ORIGINATOR_ID_TYPE": "text", "CREATE_TABLE": "y"}
    if settings.database_url is not None:
        return {
            **common,
            # eventsourcing.postgres's factory, its connections with TCP timeouts.
            "PERSISTENCE_MODULE": pg_factory.TOPIC,
            # A caller waits this long for a free pool connection (30 s by default).
            "POSTGRES_CONNECT_TIMEOUT": str(pg_timeouts.POOL_WAIT_SECONDS),
            # Inserts outside psycopg's pipeline mode: large saves hang in it.
            "APPLICATION_RECORDER_TOPIC": event_store.TOPIC,
            **postgres_env(settings.database_url),
        }
    data_dir.prepare(settings.data_path)
    return {
        **common,
        "PERSISTENCE_MODULE": sqlite_factory.TOPIC,
        "SQLITE_DBNAME": str(settings.data_path / f"{store}.sqlite"),
        "SQLITE_LOCK_TIMEOUT": "30",
        # Only the log is the record; every other store is derived from it.
        sqlite_factory.SYNCHRONOUS: (
            settings.sqlite_synchronous if store == EVENT_LOG else "normal"
        ),
    }
