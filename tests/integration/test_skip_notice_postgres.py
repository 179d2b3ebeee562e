"""A read model passing over other topics' events records and tells it in one commit.

The keeper of a PostgreSQL view moves its position past events it does not follow
(the catalog past batch jobs), because readers in other processes wait for it. That
record and its NOTIFY used to be two transactions each round; now the record's own
transaction sends the notice, and the runner's advance adds none.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import psycopg
import pytest

from domain.strategies import BatchJobDraft
from projections.read_models.known import CATALOG
from service.bootstrap.stores import build_app
from service.read_models.host import ReadModelHost
from service.read_models.remote_positions import POSITIONS_CHANNEL
from tests.conftest import make_settings

pytestmark = pytest.mark.integration
DRAFT = BatchJobDraft(type="product-export", context={}, dry_run=True)


def test_a_skip_is_recorded_and_told_in_one_transaction(
    fresh_postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path, fresh_postgres_url)
    app = build_app(settings)
    host = ReadModelHost(settings, app, project=True)  # runners driven by hand
    catalog = host[CATALOG.name]
    datastore: Any = catalog.view.datastore
    transactions: list[str] = []  # each on a connection of the view's pool
    connection = datastore.get_connection

    def counted() -> Any:
        transactions.append("one")
        return connection()

    try:
        _, position = app.create_batch_job(DRAFT, "usr_1")
        listen = psycopg.connect(fresh_postgres_url, autocommit=True)
        listen.execute(f"LISTEN {POSITIONS_CHANNEL}")
        monkeypatch.setattr(datastore, "get_connection", counted)
        with contextlib.closing(listen):
            assert catalog.runner.run_once() == 0  # nothing of its own: passed over
            heard = [n.payload for n in listen.notifies(timeout=1.0, stop_after=5)]
        monkeypatch.undo()
        recorded = catalog.recorded()
    finally:
        host.stop()
        app.close()

    assert transactions == ["one"]  # was two: the record, then the notice
    assert heard == [f"{CATALOG.name}:{position}"]
    assert recorded == position
