"""`serve --workers 2`: a scrape of either process counts both processes' requests.

Each HTTP process writes its request histogram to prometheus_client's files under
`<data dir>/metrics` (multiprocess mode, flushed within a second); whichever process
answers /metrics sums them all, and jobs counted from the read model are the same
from both. A restart removes the files of the processes that are gone.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from tests.api.operator.metrics_text import parse, value
from tests.api.test_http_workers import _create_user, _start, _stop, _wait_healthy
from tests.integration.conftest import free_port

HEADERS = {"x-medusa-access-token": "workers-token"}
NAME = "jobstream_http_request_duration_seconds_count"
HEALTH = {"method": "GET", "route": "/health", "status": "200"}


def health_requests_logged(log: Path) -> int:
    """The /health requests both processes logged answering (JSON lines)."""
    entries = [json.loads(line) for line in log.read_text().splitlines() if line]
    return sum(
        1
        for entry in entries
        if entry.get("event") == "http.request"
        and (entry.get("path"), entry.get("status")) == ("/health", 200)
    )


def test_every_http_process_is_counted_whichever_answers_the_scrape(
    tmp_path: Path,
) -> None:
    _create_user(tmp_path)
    port = free_port()
    server = _start(tmp_path, "serve", port, workers=2)
    try:
        _wait_healthy(port, server)
        base = f"http://127.0.0.1:{port}"
        # New connections: the kernel spreads them over both processes.
        for _ in range(40):
            assert httpx.get(f"{base}/health").status_code == 200
        log = tmp_path / f"serve-{port}.log"
        deadline = time.monotonic() + 10
        while True:
            scraped = httpx.get(f"{base}/metrics", headers=HEADERS)
            assert scraped.status_code == 200, scraped.text
            counted = value(parse(scraped.text), NAME, **HEALTH)
            served = health_requests_logged(log)
            # Every /health request either process answered, each counted once.
            if counted == served or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert counted == served >= 40
        # Looked at once both counted (each flushes its file within a second).
        files = sorted(p.name for p in (tmp_path / "metrics").glob("histogram_*.db"))
        pids = {name.rsplit("_", 1)[1] for name in files}
        assert len(pids) == 2, files  # both processes wrote their own file
    finally:
        _stop(server)

    # The next start removes the files of the processes that are gone.
    stale = sorted((tmp_path / "metrics").glob("histogram_*.db"))
    assert stale
    server = _start(tmp_path, "serve", port, workers=1)
    try:
        _wait_healthy(port, server)
        assert not any(path.exists() for path in stale)
    finally:
        _stop(server)
