"""`jobstream projections rebuild` any number of times: every later command still runs.

A rebuild once swapped in a tracking table without eventsourcing's `__migration__`
row, so the next start "migrated" it (renaming it to `old1_tracking`, or
`bkup1_<name>` on PostgreSQL) and the start after failed on the leftover.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
from litestar.testing import TestClient

from service.audit.models import Models
from service.http.app import create_app
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.registry import StrategyRegistry
from tests.api.catalog import conftest as catalog_fixtures
from tests.api.test_cli import jobstream
from tests.api.test_rebuild_and_verify import seeded
from tests.support import Caller, ScriptedStrategy

# The catalog is global: each PostgreSQL run gets a database of its own.
settings = catalog_fixtures.settings


def tables(settings: Settings) -> set[str]:
    """Every table of the read models (and of the event store on PostgreSQL)."""
    if settings.database_url:
        with psycopg.connect(settings.database_url) as conn:
            rows = conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            ).fetchall()
        return {row[0] for row in rows}
    found = set()
    for name in ("batchjobs.sqlite", "catalog.sqlite"):
        with sqlite3.connect(Path(settings.data_dir) / name) as conn:
            rows = conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            ).fetchall()
        found |= {f"{name}:{row[0]}" for row in rows}
    return found


def reads(client: TestClient[Any], admin: Caller) -> tuple[Any, Any]:
    jobs = client.get("/admin/batch-jobs?limit=100&order=id", headers=admin.headers)
    products = client.get("/admin/products?limit=100", headers=admin.headers)
    assert (jobs.status_code, products.status_code) == (200, 200)
    return jobs.json(), products.json()


def test_three_rebuilds_in_a_row_leave_a_store_every_command_and_serve_open(
    settings: Settings, runtime: Runtime, client: TestClient[Any], admin: Caller
) -> None:
    seeded(runtime, client, admin)
    before = reads(client, admin)
    tables_before = tables(settings)

    for _ in range(3):
        rebuilt = jobstream(settings, "projections", "rebuild")
        status = jobstream(settings, "projections", "status", "--json")
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert status.returncode == 0, status.stderr

    verified = jobstream(settings, "verify", "--json")
    assert verified.returncode == 0, verified.stderr
    assert [r["differences"] for r in json.loads(verified.stdout)] == [[], []]
    assert reads(client, admin) == before  # the running service reads the new tables
    restarted = Runtime(settings, registry=StrategyRegistry([ScriptedStrategy()]))
    with TestClient(app=create_app(restarted)) as again:
        assert reads(again, admin) == before
    after = tables(settings)
    assert tables_before <= after
    leftovers = {t for t in after if t.split(":")[-1].startswith(("old", "bkup"))}
    assert leftovers | {t for t in after if t.endswith("_next")} == set()


def damage_as_an_earlier_rebuild_did(models: Models) -> None:
    """Each view's tracking without the mark; on SQLite the failed migration's copy."""
    for view in (models.jobs, models.catalog):
        with view.transaction(commit=True) as curs:
            curs.execute(
                f"DELETE FROM {view.tracking_table} "  # noqa: S608
                f"WHERE application_name = '__migration__'"
            )
            if not view.postgres:
                curs.execute(
                    "CREATE TABLE old1_tracking (application_name TEXT, "
                    "notification_id INTEGER, PRIMARY KEY (application_name)) "
                    "WITHOUT ROWID"
                )


def test_a_store_an_earlier_rebuild_left_without_the_mark_starts_again(
    settings: Settings, runtime: Runtime, client: TestClient[Any], admin: Caller
) -> None:
    seeded(runtime, client, admin)
    before = reads(client, admin)
    tables_before = tables(settings)
    damage_as_an_earlier_rebuild_did(Models.of(runtime))

    status = jobstream(settings, "projections", "status", "--json")
    rebuilt = jobstream(settings, "projections", "rebuild")
    restarted = Runtime(settings, registry=StrategyRegistry([ScriptedStrategy()]))
    with TestClient(app=create_app(restarted)) as again:
        assert reads(again, admin) == before

    assert status.returncode == 0, status.stderr
    assert rebuilt.returncode == 0, rebuilt.stderr
    after = tables(settings)
    assert tables_before <= after
    assert {t for t in after if t.split(":")[-1].startswith(("old", "bkup"))} == set()
