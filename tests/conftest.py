"""Shared fixtures: a clean environment, both storage backends, scripted strategies."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from service.settings import Settings

# Tests never read a developer's or CI's settings by accident.
for _key in list(os.environ):
    if _key.startswith(
        ("JOBSTREAM_", "PERSISTENCE_MODULE", "POSTGRES_", "SQLITE_", "OTEL_")
    ):
        del os.environ[_key]

ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def create_database(name: str) -> str:
    """Create a database on the test server; return its URL."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """A database of its own, dropped at the end; its URL."""
    name = f"jobstream_test_{uuid.uuid4().hex[:12]}"
    try:
        yield create_database(name)
    finally:
        drop_database(name)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of its own for this test session, dropped at the end."""
    with scratch_database() as url:
        yield url


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """A database of this test's own (its tables and channels shared with no other)."""
    with scratch_database() as url:
        yield url


def make_settings(data_dir: Path, database_url: str | None = None) -> Settings:
    return Settings(
        data_dir=str(data_dir),
        database_url=database_url,
        jwt_secret="test-jwt-secret-of-at-least-32-bytes",
        cookie_secret="test-cookie-secret-of-at-least-32-bytes",
        processor_threads=2,
        read_your_writes_timeout=10.0,
        log_format="console",
        # Spawned `serve`/`api` run one HTTP process, so their logs read as one
        # process's; tests/api/test_http_workers.py asks for more.
        http_workers=1,
    )


@pytest.fixture(
    params=["embedded", pytest.param("postgres", marks=pytest.mark.integration)]
)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """One test body, two backends: SQLite files, and PostgreSQL."""
    if request.param == "postgres":
        return make_settings(tmp_path, request.getfixturevalue("postgres_url"))
    return make_settings(tmp_path)
