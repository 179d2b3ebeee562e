"""PostgreSQL cut off from the API: every request answers 503 within about 2 s.

`jobstream serve` reaches its database through a black hole
(tests/integration/blackhole.py): the link goes silent, nothing is closed, and TCP's
own timeouts never fire through it, so what is shown here holds on the service's own
bounds (service.db_gate, service.http.database_cut). Requests in flight at the cut,
and requests made during it, `/health` included, answer 503 in Medusa's error shape
(health in its own); once the link heals the service answers as before.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import msgspec
import pytest

from service.db_gate import PROBE_SECONDS, RECHECK_SECONDS, STALE_SECONDS
from service.settings import Settings
from tests.conftest import create_database, drop_database, make_settings
from tests.integration.blackhole import BlackHole
from tests.integration.conftest import free_port
from tests.integration.processes import start_role, wait_for_log
from tests.integration.test_processes import create_user
from tests.integration.test_relay_failover import through

pytestmark = pytest.mark.integration
TOKEN = "database-cut-token"
# The documented bound, and what a busy 2-core machine may add to it.
BOUND = STALE_SECONDS + PROBE_SECONDS + RECHECK_SECONDS
SLACK = 1.5
EXPORT = {"type": "product-export", "context": {}, "dry_run": True}


@pytest.fixture
def direct_settings(tmp_path: Path) -> Iterator[Settings]:
    name = f"jobstream_cut_{uuid.uuid4().hex[:8]}"
    url = create_database(name)
    try:
        yield msgspec.structs.replace(make_settings(tmp_path, url), port=free_port())
    finally:
        drop_database(name)


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def assert_unavailable(response: httpx.Response, path: str) -> None:
    assert response.status_code == 503, (path, response.text)
    body = response.json()
    if path.startswith("/health"):
        assert body["status"] == "unavailable"
    else:
        assert set(body) >= {"type", "message"}
        assert body["type"] == "unexpected_state"


def test_requests_answer_503_within_the_bound_while_the_database_is_cut(
    direct_settings: Settings, tmp_path: Path
) -> None:
    assert direct_settings.database_url is not None
    create_user(direct_settings, TOKEN)
    target = urlsplit(direct_settings.database_url)
    log = tmp_path / "serve.log"
    with BlackHole((target.hostname or "127.0.0.1", target.port or 5432)) as hole:
        cut_off = msgspec.structs.replace(
            direct_settings,
            database_url=through(hole, direct_settings.database_url),
        )
        server = start_role(cut_off, "serve", log)
        try:
            wait_for_log(log, "http.listening")
            with httpx.Client(
                base_url=f"http://127.0.0.1:{cut_off.port}",
                headers={"x-medusa-access-token": TOKEN},
                timeout=60,
            ) as client:
                assert client.get("/health").status_code == 200
                created = client.post("/admin/batch-jobs", json=EXPORT)
                assert created.status_code == 201, created.text
                job = f"/admin/batch-jobs/{created.json()['batch_job']['id']}"
                requests: dict[str, Callable[[], httpx.Response]] = {
                    "/health": lambda: client.get("/health"),
                    job: lambda: client.get(job),
                    "/admin/batch-jobs": lambda: client.get("/admin/batch-jobs"),
                    "POST /admin/batch-jobs": lambda: client.post(
                        "/admin/batch-jobs", json=EXPORT
                    ),
                }

                hole.cut()
                # In flight at the cut: answered once the service knows.
                with ThreadPoolExecutor(len(requests)) as pool:
                    answers = dict(
                        zip(requests, pool.map(timed, requests.values()), strict=True)
                    )
                for path, (response, elapsed) in answers.items():
                    assert_unavailable(response, path)
                    assert elapsed <= BOUND + SLACK, (path, elapsed)
                # Made during the cut: answered at once.
                for path, request in requests.items():
                    response, elapsed = timed(request)
                    assert_unavailable(response, path)
                    assert elapsed <= SLACK, (path, elapsed)

                hole.heal()
                deadline = time.monotonic() + 30
                while client.get("/health").status_code != 200:
                    assert time.monotonic() < deadline, "never healthy again"
                    time.sleep(0.2)
                assert client.get(job).status_code == 200
        finally:
            hole.heal()
            server.terminate()
            server.wait(timeout=60)
