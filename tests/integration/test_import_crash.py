"""`serve` SIGKILLed in the middle of a 5,000-row import, then started again.

The import is staged on disk and committed in one transaction with its claim
(docs/decisions/002-staged-imports.md): after the restart the job ends completed with
every product, or failed with a clear error and none; never a part of the file.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec

from service.settings import Settings
from tests.api.catalog import conftest as catalog_fixtures
from tests.integration.conftest import free_port, wait_for_port
from tests.integration.processes import log_events, start_role
from tests.integration.test_processes import create_user, stop

# The catalog is global: each PostgreSQL run gets a database of its own.
settings = catalog_fixtures.settings
ROWS = 5000
TOKEN = "crash-token"
HEADER = "Product Handle,Product Title,Variant Title,Variant SKU,Price USD\n"


def csv_of(rows: int) -> bytes:
    lines = (f"p{n},Product {n},One,sku-{n},{n % 90 + 1}\n" for n in range(rows))
    return (HEADER + "".join(lines)).encode()


def serve(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    server = start_role(settings, "serve", log)
    try:
        wait_for_port(settings.port, timeout=30)
    except TimeoutError:
        stop(server, signal.SIGKILL)
        raise
    return server


def job_of(client: httpx.Client, job_id: str) -> dict[str, Any]:
    response = client.get(f"/admin/batch-jobs/{job_id}")
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()["batch_job"]
    return job


def until(condition: Any, seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what} not in {seconds} s"
        time.sleep(0.02)
    return value


def product_count(client: httpx.Client) -> int | None:
    """The catalog's count; None while it folds the commit (503: retry, as it says)."""
    response = client.get("/admin/products?limit=1")
    if response.status_code == 503:
        return None
    assert response.status_code == 200, response.text
    return int(response.json()["count"])


def settled_count(client: httpx.Client, seconds: float = 30) -> int:
    deadline = time.monotonic() + seconds
    while (count := product_count(client)) is None:
        assert time.monotonic() < deadline, f"the catalog answered 503 for {seconds} s"
        time.sleep(0.05)
    return count


def test_serve_killed_mid_import_ends_the_job_with_all_of_the_file_or_none(
    settings: Settings, tmp_path: Path
) -> None:
    settings = msgspec.structs.replace(settings, port=free_port(), lease_seconds=2.0)
    create_user(settings, TOKEN)
    base = f"http://127.0.0.1:{settings.port}"
    headers = {"x-medusa-access-token": TOKEN}
    first_log, second_log = tmp_path / "serve-1.log", tmp_path / "serve-2.log"
    server = serve(settings, first_log)
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            uploaded = client.post(
                "/admin/uploads/protected",
                files=[("files", ("products.csv", csv_of(ROWS), "text/csv"))],
            )
            assert uploaded.status_code == 200, uploaded.text
            key = uploaded.json()["uploads"][0]["key"]
            created = client.post(
                "/admin/batch-jobs",
                json={"type": "product-import", "context": {"fileKey": key},
                      "dry_run": True},
            )  # fmt: skip
            assert created.status_code == 201, created.text
            job_id = created.json()["batch_job"]["id"]
            until(lambda: job_of(client, job_id)["status"] == "pre_processed", 60,
                  "pre-processing")  # fmt: skip
            confirmed = client.post(f"/admin/batch-jobs/{job_id}/confirm")
            assert confirmed.status_code == 200, confirmed.text
            # Killed as soon as it processes: while it stages the rows (seconds on
            # SQLite, about one on PostgreSQL), before its one commit.
            at_kill = until(
                lambda: (
                    (job := job_of(client, job_id))["status"] == "processing" and job
                ),
                60,
                "processing",
            )
            server.send_signal(signal.SIGKILL)
            server.wait(timeout=10)
        assert "processor.completed" not in log_events(first_log)  # killed mid-way

        server = serve(settings, second_log)
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            job = until(
                lambda: (
                    (job := job_of(client, job_id))["status"] in {"completed", "failed"}
                    and job
                ),
                90,
                "the job's end after the restart",
            )
            expected = ROWS if job["status"] == "completed" else 0
            # The catalog read model folds the one commit in its batches.
            until(lambda: product_count(client) == expected, 60, f"{expected} products")
            time.sleep(0.5)
            count = settled_count(client)
    finally:
        stop(server, signal.SIGKILL)

    assert at_kill["status"] == "processing"
    assert (at_kill["result"] or {}).get("advancement_count", 0) < 2 * ROWS
    assert count == expected
    if job["status"] == "completed":
        # Medusa counts the products and the variants created: two per row here.
        assert job["result"]["advancement_count"] == job["result"]["count"] == 2 * ROWS
        assert job["jobstream"]["attempts"]["processing"] == 2  # taken over
    else:
        assert job["result"]["errors"], job  # a clear message says why
