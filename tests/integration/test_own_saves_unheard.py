"""A process does not hear its own saves back from PostgreSQL.

Every save NOTIFYs the events channel, and each process LISTENs to it to learn of
other processes' saves. Its own saves already told its runners in-process
(`Jobstream.notify_saved`); heard back, each woke every read model of the process
for nothing (the catalog recorded a skip per save). The listener now passes over
NOTIFYs sent from the application's own sessions (`OwnBackends`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from domain.strategies import BatchJobDraft
from service.bootstrap.stores import build_app
from service.event_store import UnpipelinedPostgresRecorder
from service.pg_listener import NotificationListener
from tests.conftest import make_settings

pytestmark = pytest.mark.integration
DRAFT = BatchJobDraft(type="product-export", context={}, dry_run=True)


def test_saves_of_another_application_are_heard_and_its_own_are_not(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, fresh_postgres_url)
    mine, other = build_app(settings), build_app(settings)  # two processes' worth
    recorder = mine.recorder
    assert isinstance(recorder, UnpipelinedPostgresRecorder)
    heard: list[Sequence[str] | None] = []
    listener = NotificationListener(
        fresh_postgres_url,
        recorder.channel_name,
        heard.append,
        own=recorder.own_backends,
    )
    listener.start()
    try:
        assert listener.wait_connected(10)
        mine.create_batch_job(DRAFT, "usr_1")
        other.create_batch_job(DRAFT, "usr_1")
        mine.create_batch_job(DRAFT, "usr_1")
        deadline = time.monotonic() + 5
        while not heard and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # room for anything more to arrive
        own_pids = list(recorder.own_backends._connections)
    finally:
        listener.stop()
        other.close()
        mine.close()

    assert len(heard) == 1  # the other application's save, and only it
    assert heard[0] is not None and any("BatchJob" in t for t in heard[0])
    assert own_pids  # the sessions the own saves went through
    # Closed, a session is ours no more: PostgreSQL may give its pid to another.
    assert all(pid not in recorder.own_backends for pid in own_pids)
