"""Jobs made through the API for the browser tests to look at."""

from __future__ import annotations

import csv
import io
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

FINAL = {"completed", "canceled", "failed"}


def upload(api: httpx.Client, name: str, content: bytes) -> str:
    answer = api.post("/admin/uploads/protected", files={"files": (name, content)})
    assert answer.status_code == 200, answer.text
    key: str = answer.json()["uploads"][0]["key"]
    return key


def create(api: httpx.Client, body: dict[str, Any]) -> str:
    answer = api.post("/admin/batch-jobs", json=body)
    assert answer.status_code == 201, answer.text
    job_id: str = answer.json()["batch_job"]["id"]
    return job_id


def wait_for(
    api: httpx.Client, job_id: str, statuses: set[str], seconds: float = 30
) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        job: dict[str, Any] = api.get(f"/admin/batch-jobs/{job_id}").json()["batch_job"]
        if job["status"] in statuses:
            return job
        assert time.monotonic() < deadline, f"{job_id} still {job['status']}"
        time.sleep(0.1)


def completed_export(api: httpx.Client) -> str:
    job_id = create(api, {"type": "product-export", "context": {}})
    wait_for(api, job_id, {"completed"})
    return job_id


def import_job(api: httpx.Client, csv: bytes, status: str) -> str:
    """A dry-run import of `csv`, once pre-processing has left it in `status`."""
    key = upload(api, "products.csv", csv)
    job_id = create(
        api, {"type": "product-import", "context": {"fileKey": key}, "dry_run": True}
    )
    job = wait_for(api, job_id, {"pre_processed", *FINAL})
    assert job["status"] == status, job
    return job_id


def sample_csv() -> bytes:
    """examples/products.csv with handles and SKUs of its own (each import creates)."""
    text = (Path(__file__).parents[2] / "examples" / "products.csv").read_text()
    rows = list(csv.reader(io.StringIO(text)))
    suffix = uuid.uuid4().hex[:8]
    for column in (rows[0].index("Product Handle"), rows[0].index("Variant SKU")):
        for row in rows[1:]:
            row[column] = f"{row[column]}-{suffix}"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def bad_csv() -> bytes:
    """The sample with one price that is not a number, on line 3."""
    header, first, second, *_ = sample_csv().decode().splitlines()
    assert ",24.00," in second
    return "\n".join([header, first, second.replace(",24.00,", ",lots,", 1)]).encode()
