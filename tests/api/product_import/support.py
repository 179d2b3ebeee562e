"""Helpers for the product-import API tests: uploads, seeds, running jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from tests.api.catalog.support import created, post
from tests.support import Caller, wait_for_status

FILES = Path(__file__).parent / "files"


def row_error(message: str, handle: str, sku: str = "undefined") -> str:
    """Medusa's error for a new product's row (no product or variant id)."""
    return (
        "Error while processing row with\n"
        "      [(product id: undefined),\n"
        f"      (product handle: {handle}),\n"
        "      (variant id: undefined),\n"
        f"      (variant sku: {sku})]: \n"
        f"      {message}"
    )


def upload(
    client: TestClient[Any], admin: Caller, content: str | bytes, name: str = "i.csv"
) -> str:
    raw = content.encode() if isinstance(content, str) else content
    response = client.post(
        "/admin/uploads/protected",
        files=[("files", (name, raw, "text/csv"))],
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    key: str = response.json()["uploads"][0]["key"]
    return key


def start_import(
    client: TestClient[Any], admin: Caller, key: str, *, dry_run: bool = False
) -> str:
    body = {"type": "product-import", "context": {"fileKey": key}, "dry_run": dry_run}
    response = post(client, admin, "/admin/batch-jobs", body)
    assert response.status_code == 201, response.text
    job_id: str = response.json()["batch_job"]["id"]
    return job_id


def run_import(
    client: TestClient[Any],
    admin: Caller,
    content: str | bytes,
    status: str = "completed",
) -> dict[str, Any]:
    job_id = start_import(client, admin, upload(client, admin, content))
    job = wait_for_status(client, admin, job_id, timeout=30)
    assert job["status"] == status, job
    return job


def list_products(
    client: TestClient[Any], admin: Caller, query: str = ""
) -> dict[str, Any]:
    response = client.get(f"/admin/products{query}", headers=admin.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def seed_regions(client: TestClient[Any], admin: Caller) -> dict[str, str]:
    """batchJobSeeder's regions: ImportLand (eur), denmark and Denmark (dkk)."""
    ids = {}
    for name, currency, country in (
        ("ImportLand", "eur", "fr"), ("denmark", "dkk", "dk"), ("Denmark", "dkk", "se"),
    ):  # fmt: skip
        body = {
            "name": name, "currency_code": currency, "tax_rate": 0,
            "payment_providers": ["manual"], "fulfillment_providers": ["manual"],
            "countries": [country],
        }  # fmt: skip
        ids[name] = created(client, admin, "/admin/regions", body, "region")["id"]
    return ids


def seed_collection(client: TestClient[Any], admin: Caller, handle: str) -> str:
    body = {"title": f"Collection {handle}", "handle": handle}
    return str(created(client, admin, "/admin/collections", body, "collection")["id"])


def template(name: str, **replace: str) -> str:
    text = (FILES / name).read_text()
    for old, new in replace.items():
        text = text.replace(old.replace("_", "-"), new)
    return text
