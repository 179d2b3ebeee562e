"""80 clients hammering the login of a served process never starve other requests."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from domain.users import User
from service.bootstrap.stores import build_app
from service.settings import Settings
from tests.integration.conftest import free_port
from tests.integration.processes import ROOT, environment
from tests.support import password_hash

EMAIL, PASSWORD, TOKEN = "admin@load.dev", "secret-password", "load-token"
ATTACKERS = 80
MEASURE_SECONDS = 3.0


def create_admin(settings: Settings) -> None:
    app = build_app(settings)
    try:
        app.register_user(
            User.register(
                email=EMAIL,
                password_hash=password_hash(PASSWORD),
                actor="test",
                api_token=TOKEN,
            )
        )
    finally:
        app.close()


@pytest.fixture
def served(settings: Settings, tmp_path: Path) -> Iterator[str]:
    """`jobstream serve` on a free port, every failure limit off: only the pool holds."""
    settings = msgspec.structs.replace(settings, port=free_port())
    create_admin(settings)
    env = {
        **environment(settings),
        "JOBSTREAM_LOGIN_FAILURES_PER_ACCOUNT": "0",
        "JOBSTREAM_LOGIN_FAILURES_PER_ADDRESS": "0",
        "JOBSTREAM_LOG_LEVEL": "warning",
    }
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "service", "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{settings.port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def start_attackers(base_url: str, seconds: float) -> subprocess.Popen[str]:
    attackers = subprocess.Popen(
        [sys.executable, "-m", "tests.api.login_attack", base_url, EMAIL,
         str(ATTACKERS), str(seconds)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert attackers.stdout is not None
    assert attackers.stdout.readline() == "started\n"
    return attackers


def measure(base_url: str) -> list[float]:
    latencies = []
    headers = {"x-medusa-access-token": TOKEN}
    with httpx.Client(base_url=base_url, headers=headers) as client:
        assert client.get("/admin/batch-jobs").status_code == 200
        time.sleep(1.0)  # every attacker is in flight
        end = time.monotonic() + MEASURE_SECONDS
        while time.monotonic() < end:
            started = time.perf_counter()
            response = client.get("/admin/batch-jobs")
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200
            time.sleep(0.01)
    return latencies


def test_logins_never_starve_authenticated_reads(served: str) -> None:
    attackers = start_attackers(served, MEASURE_SECONDS + 1.5)
    try:
        latencies = measure(served)
    finally:
        output, _ = attackers.communicate(timeout=60)
    statuses = Counter({int(k): v for k, v in json.loads(output).items()})

    latencies.sort()
    p99 = latencies[int(0.99 * (len(latencies) - 1) + 0.5)]
    summary = (
        f"p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms, {len(latencies)} reads; logins {dict(statuses)}"
    )
    assert len(latencies) >= 50, summary
    assert p99 < 0.1, summary
    # The logins really were checked, and the overflow was turned away at once.
    assert statuses[401] >= 5, summary
    assert statuses[503] > 0, summary
    assert statuses[-1] == 0, "a 503 without Retry-After: 1"
    assert set(statuses) <= {401, 503, -1}, summary
    print(summary)  # noqa: T201 - shown with -s, for whoever tunes the pool
