"""A real nats-server with JetStream per test module, on a free loopback port."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import msgspec
import pytest

from service.application import Jobstream
from service.bootstrap.stores import build_app
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.registry import StrategyRegistry
from tests.conftest import create_database, drop_database
from tests.support import ScriptedStrategy


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


@pytest.fixture(scope="module")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    if not shutil.which(binary):
        pytest.fail(
            "nats-server is missing: apt-get install nats-server (.ci/run does)"
        )
    port, store = free_port(), tmp_path_factory.mktemp("jetstream")
    server = subprocess.Popen(
        [binary, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"nats://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def nats_settings(settings: Settings, nats_url: str) -> Iterator[Settings]:
    """The backend's settings, with a stream, subjects and consumers of this test's own.

    On PostgreSQL also a database of its own: a new stream's relay publishes the whole
    event history, and the session's shared database holds every other test's too.
    """
    tag = uuid.uuid4().hex[:8]
    database_url = settings.database_url
    if database_url is not None:
        database_url = create_database(f"jobstream_nats_{tag}")
    try:
        yield msgspec.structs.replace(
            settings,
            database_url=database_url,
            nats_url=nats_url,
            nats_stream=f"JOBS_{tag}",
            nats_subject_prefix=f"t{tag}",
            worker_durable=f"workers-{tag}",
            lease_seconds=3.0,
        )
    finally:
        if database_url is not None:
            drop_database(f"jobstream_nats_{tag}")


@pytest.fixture
async def api(nats_settings: Settings) -> AsyncIterator[Runtime]:
    """The API side: event store and read model; jobs run on the workers, not here."""
    runtime = Runtime(
        nats_settings,
        registry=StrategyRegistry([ScriptedStrategy()]),
        process_jobs=False,
    )
    runtime.start()
    try:
        yield runtime
    finally:
        await asyncio.to_thread(runtime.stop)


@pytest.fixture
def app(settings: Settings) -> Iterator[Jobstream]:
    """The application alone, on each backend: no runtime, runners or processor."""
    app = build_app(settings)
    try:
        yield app
    finally:
        app.close()
