"""The audit commands: history, state, projections status and rebuild, verify, export."""

from __future__ import annotations

import json
from typing import Any

from litestar.testing import TestClient

from service.runtime import Runtime
from service.settings import Settings
from tests.api.catalog import conftest as catalog_fixtures
from tests.api.test_cli import jobstream
from tests.support import Caller, seed_job

# Each PostgreSQL run gets a database of its own (verify reads every aggregate).
settings = catalog_fixtures.settings


def test_history_and_state_of_a_job_as_json_and_as_tables(
    settings: Settings, runtime: Runtime, client: TestClient[Any], admin: Caller
) -> None:
    job_id = seed_job(runtime, admin.user.id, completed=True)

    timeline = jobstream(settings, "history", job_id, "--json")
    table = jobstream(settings, "history", job_id)
    first = jobstream(settings, "state", job_id, "--version", "1", "--json")
    last = jobstream(settings, "state", job_id, "--version", "5")
    missing = jobstream(settings, "history", "batch_nope")

    assert timeline.returncode == 0, timeline.stderr
    names = [e["name"] for e in json.loads(timeline.stdout)]
    assert names == [
        "batch.created", "batch.pre_processed", "batch.confirmed", "batch.processing",
        "batch.completed",
    ]  # fmt: skip
    assert table.stdout.splitlines()[0].split() == [
        "version", "occurred_at", "event", "actor", "payload",
    ]  # fmt: skip
    assert "batch.confirmed" in table.stdout
    assert json.loads(first.stdout)["status"] == "created"
    fetched = client.get(f"/admin/batch-jobs/{job_id}", headers=admin.headers)
    assert (
        json.loads(first.stdout)["created_at"]
        == fetched.json()["batch_job"]["created_at"]
    )
    assert ["status", "completed"] in [row.split() for row in last.stdout.splitlines()]
    assert missing.returncode == 1


def test_status_rebuild_verify_and_export(
    settings: Settings, runtime: Runtime, client: TestClient[Any], admin: Caller
) -> None:
    jobs = [seed_job(runtime, admin.user.id) for _ in range(5)]
    runtime.catalog_reads.settle(runtime.catalog.ensure_store())

    status = jobstream(settings, "projections", "status", "--json")
    rebuilt = jobstream(settings, "projections", "rebuild", "batchjobs")
    verified = jobstream(settings, "verify", "--json")
    exported = jobstream(settings, "events", "export", "--since", "0")

    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    head = report["event_store_head"]
    assert (
        report["projections"]["batchjobs"]["lag"]
        == head - report["projections"]["batchjobs"]["position"]
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "events/s" in rebuilt.stderr  # the progress line
    assert "batchjobs" in rebuilt.stdout
    assert verified.returncode == 0, verified.stdout
    assert [r["differences"] for r in json.loads(verified.stdout)] == [[], []]
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert [line["position"] for line in lines] == sorted(
        line["position"] for line in lines
    )
    assert {line["aggregate_id"] for line in lines} >= set(jobs)
    assert all(
        line["payload"].get("password_hash") in {None, "[redacted]"} for line in lines
    )
    later = jobstream(settings, "events", "export", "--since", str(head - 1))
    assert [json.loads(x)["position"] for x in later.stdout.splitlines()] == [head]


def test_verify_exits_non_zero_and_names_each_difference(
    settings: Settings, runtime: Runtime, client: TestClient[Any], admin: Caller
) -> None:
    # Completed: no processing writes to it while the row is deleted.
    job_id = seed_job(runtime, admin.user.id, completed=True)
    with runtime.view.transaction(commit=True) as curs:  # type: ignore[attr-defined]
        curs.execute(f"DELETE FROM {runtime.view.table}")  # type: ignore[attr-defined]  # noqa: S608

    verified = jobstream(settings, "verify")

    assert verified.returncode == 1
    assert job_id in verified.stdout
    assert "missing from the read model" in verified.stdout


def test_bare_projections_still_parses_as_the_projections_process() -> None:
    from service.__main__ import _parser  # noqa: PLC0415

    args = _parser().parse_args(["projections"])
    assert (args.command, args.projections_action) == ("projections", None)
    relay = _parser().parse_args(["relay"])
    assert relay.relay_action is None
