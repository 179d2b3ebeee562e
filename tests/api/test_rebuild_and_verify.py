"""Live rebuilds under read load, and verification of the read models against events."""

from __future__ import annotations

import json
import threading
from typing import Any

from litestar.testing import TestClient

from service.audit import verify
from service.audit.models import PROJECTIONS, Models
from service.runtime import Runtime
from tests.api.catalog import conftest as catalog_fixtures
from tests.api.catalog.support import product
from tests.support import Caller, seed_job, wait_for_status

# The catalog is global: each PostgreSQL run gets a database of its own.
settings = catalog_fixtures.settings


def seeded(runtime: Runtime, client: TestClient[Any], admin: Caller) -> list[str]:
    jobs = [seed_job(runtime, admin.user.id, completed=i % 2 == 0) for i in range(40)]
    product(client, admin)
    for job_id in jobs:  # the processor is done with them: the rows stay as they are
        wait_for_status(client, admin, job_id, ["pre_processed", "completed"])
    return jobs


def test_verify_passes_on_a_projected_store_and_reports_a_planted_difference(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    jobs = seeded(runtime, client, admin)
    models = Models.of(runtime)
    assert [r.differences for r in verify.verify(models)] == [[], []]

    with models.jobs.transaction(commit=True) as curs:
        curs.execute(
            f"UPDATE {models.jobs.table} SET document = REPLACE(document, "  # noqa: S608
            "'\"dry_run\":true', '\"dry_run\":false') WHERE id = "
            f"{models.jobs.placeholder}",
            [jobs[3]],
        )
    with models.catalog.transaction(commit=True) as curs:
        curs.execute(f"DELETE FROM {models.catalog.records} WHERE kind = 'region'")  # noqa: S608

    jobs_report, catalog_report = verify.verify(models)

    assert [(d.id, d.problem) for d in jobs_report.differences] == [
        (jobs[3], "dry_run: read model false, events true")
    ]
    assert jobs_report.aggregates == 40
    assert catalog_report.differences == []  # no region was ever made


def test_a_rebuild_under_read_load_never_fails_a_request_nor_serves_stale_data(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    jobs = seeded(runtime, client, admin)
    models = Models.of(runtime)
    before = {name: _contents(models, name) for name in PROJECTIONS}
    failures: list[str] = []
    stop = threading.Event()

    def read_and_write() -> None:
        count = len(jobs)
        while not stop.is_set():
            created = client.post(
                "/admin/batch-jobs",
                json={"type": "product-export", "context": {}, "dry_run": True},
                headers=admin.headers,
            )
            count += 1
            listed = client.get("/admin/batch-jobs?limit=1", headers=admin.headers)
            got = client.get(
                f"/admin/batch-jobs/{created.json()['batch_job']['id']}",
                headers=admin.headers,
            )
            if (created.status_code, listed.status_code, got.status_code) != (
                201, 200, 200,
            ):  # fmt: skip
                failures.append(f"{created.text} {listed.text} {got.text}")
            elif listed.json()["count"] != count:
                failures.append(f"stale list: {listed.json()['count']} != {count}")

    reader = threading.Thread(target=read_and_write)
    reader.start()
    try:
        for name in PROJECTIONS:
            for _ in range(3):
                models.rebuild(name).run()
    finally:
        stop.set()
        reader.join()

    assert failures == []
    assert len(after := _contents(models, "batchjobs")) > len(jobs)  # it wrote, too
    assert [r.differences for r in verify.verify(models)] == [[], []]
    assert _contents(models, "catalog") == before["catalog"]
    assert {k: v for k, v in after.items() if k in before["batchjobs"]} == before[
        "batchjobs"
    ]
    listed = client.get("/admin/batch-jobs?limit=500", headers=admin.headers).json()
    assert listed["count"] == len(after)


def _contents(models: Models, name: str) -> dict[str, Any]:
    if name == "catalog":
        return {k: vars(v) for k, v in models.catalog.entities_by_id().items()}
    # As JSON values: PostgreSQL's JSONB orders an object's keys its own way.
    return {
        k: (version, json.loads(text))
        for k, (version, text) in models.jobs.documents_by_id().items()
    }
