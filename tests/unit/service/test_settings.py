"""Settings from JOBSTREAM_* variables."""

from __future__ import annotations

import pytest

from service.settings import (
    Settings,
    load_settings,
    nats_servers,
    postgres_env,
    storage_env,
)


def test_defaults_without_any_variable() -> None:
    settings = load_settings({})

    assert settings == Settings()
    assert (settings.host, settings.port, settings.data_dir) == (
        "127.0.0.1",
        9000,
        "./var",
    )
    assert not settings.is_postgres


def test_variables_are_typed_and_empty_ones_mean_unset() -> None:
    settings = load_settings(
        {
            "JOBSTREAM_PORT": "9100",
            "JOBSTREAM_SECURE_COOKIES": "true",
            "JOBSTREAM_READ_YOUR_WRITES_TIMEOUT": "2.5",
            "JOBSTREAM_DATABASE_URL": "",
            "JOBSTREAM_JWT_SECRET": "",
            "OTHER_PORT": "1",
        }
    )

    assert (settings.port, settings.secure_cookies) == (9100, True)
    assert settings.read_your_writes_timeout == 2.5
    assert settings.database_url is None and settings.jwt_secret is None


def test_postgres_url_becomes_eventsourcing_keys() -> None:
    assert postgres_env("postgresql://app:p%40ss@db.local:6543/jobs") == {
        "POSTGRES_DBNAME": "jobs",
        "POSTGRES_HOST": "db.local",
        "POSTGRES_PORT": "6543",
        "POSTGRES_USER": "app",
        "POSTGRES_PASSWORD": "p@ss",
    }
    with pytest.raises(ValueError, match="postgresql://"):
        postgres_env("mysql://x/y")


def test_embedded_stores_are_files_under_the_data_dir(tmp_path: object) -> None:
    settings = Settings(data_dir=str(tmp_path))
    env = storage_env(settings, "events")

    # eventsourcing's SQLite factory, with each store's sync mode.
    assert env["PERSISTENCE_MODULE"] == "service.sqlite_factory:SyncingSQLiteFactory"
    assert env["SQLITE_DBNAME"] == f"{tmp_path}/events.sqlite"
    assert env["ORIGINATOR_ID_TYPE"] == "text"
    assert env["SQLITE_SYNCHRONOUS"] == "full"  # the log: JOBSTREAM_SQLITE_SYNCHRONOUS
    assert storage_env(settings, "batchjobs")["SQLITE_SYNCHRONOUS"] == "normal"


def test_a_nats_url_may_name_a_cluster() -> None:
    assert nats_servers("nats://a:4222, nats://b:4222,") == [
        "nats://a:4222",
        "nats://b:4222",
    ]
    assert nats_servers("nats://127.0.0.1:4222") == ["nats://127.0.0.1:4222"]
    assert load_settings({"JOBSTREAM_NATS_REPLICAS": "3"}).nats_replicas == 3
