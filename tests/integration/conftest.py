"""A real nats-server with JetStream per test module, on a free loopback port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator

import msgspec
import pytest

from service.settings import Settings


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
def nats_settings(settings: Settings, nats_url: str) -> Settings:
    """The backend's settings, with a stream, subjects and consumers of this test's own."""
    tag = uuid.uuid4().hex[:8]
    return msgspec.structs.replace(
        settings,
        nats_url=nats_url,
        nats_stream=f"JOBS_{tag}",
        nats_subject_prefix=f"t{tag}",
        worker_durable=f"workers-{tag}",
        lease_seconds=3.0,
    )
