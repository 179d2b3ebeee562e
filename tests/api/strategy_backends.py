"""Fixtures for the real strategies' API tests (export, import): every backend.

Embedded; PostgreSQL; PostgreSQL with NATS (relay, worker, object store), each with a
catalog of its own. A package's conftest.py imports them (product_export, product_import).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from service.all_roles import relay_and_worker
from service.http.app import create_app
from service.runtime import Runtime
from service.settings import Settings
from tests.conftest import create_database, drop_database, make_settings
from tests.integration.conftest import nats_url
from tests.support import Caller, new_user

__all__ = ["admin", "client", "nats_url", "runtime", "settings"]


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("postgres", marks=pytest.mark.integration),
        pytest.param("nats", marks=pytest.mark.integration),
    ]
)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Embedded; PostgreSQL; PostgreSQL with NATS: relay, worker, object store."""
    if request.param == "embedded":
        yield make_settings(tmp_path)
        return
    name = f"jobstream_strategy_{uuid.uuid4().hex[:12]}"
    url = create_database(name)
    try:
        settings = make_settings(tmp_path, url)
        if request.param == "nats":
            tag = uuid.uuid4().hex[:8]
            settings = msgspec.structs.replace(
                settings,
                nats_url=request.getfixturevalue("nats_url"),
                nats_stream=f"STRATEGY_{tag}",
                nats_subject_prefix=f"s{tag}",
                worker_durable=f"workers-{tag}",
                file_store="nats",
                file_bucket=f"files-{tag}",
            )
        yield settings
    finally:
        drop_database(name)


@pytest.fixture
def runtime(settings: Settings) -> Runtime:
    return Runtime(settings, process_jobs=settings.nats_url is None)


@pytest.fixture
def client(runtime: Runtime, settings: Settings) -> Iterator[TestClient[Any]]:
    roles = []
    if settings.nats_url is not None:
        roles = [relay_and_worker(runtime.parts)]
    with TestClient(app=create_app(runtime, roles=roles)) as test_client:
        yield test_client


@pytest.fixture
def admin(runtime: Runtime, client: TestClient[Any]) -> Caller:
    return new_user(runtime, "admin_user")
