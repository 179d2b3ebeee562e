"""One large save on PostgreSQL completes (psycopg's pipeline mode hung on it)."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest

from domain.batch_jobs import BatchJob
from service.bootstrap.stores import build_app
from tests.conftest import create_database, drop_database, make_settings

pytestmark = pytest.mark.integration


def test_ten_thousand_events_of_two_kilobytes_save_at_once(tmp_path: Path) -> None:
    name = f"jobstream_large_{uuid.uuid4().hex[:8]}"
    app = build_app(make_settings(tmp_path, create_database(name)))
    try:
        jobs = [
            BatchJob.create(
                batch_type="t",
                created_by="usr_1",
                context={"x": "a" * 2000},
                dry_run=True,
                actor="usr_1",
            )
            for _ in range(10_000)
        ]
        saved: list[float] = []

        def save() -> None:
            started = time.monotonic()
            app.save(*jobs)
            saved.append(time.monotonic() - started)

        saver = threading.Thread(target=save, daemon=True)
        saver.start()
        saver.join(60)  # in pipeline mode this never returned

        assert saved, "the save hung"
        assert app.recorder.max_notification_id() == 10_000
        assert app.repository.get(jobs[-1].id).context == {"x": "a" * 2000}
    finally:
        app.close()
        drop_database(name)
