"""Runners wake for the topics they follow; PostgreSQL's NOTIFY names a save's topics."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import pytest
from eventsourcing.utils import get_topic

from domain.batch_jobs import BatchJob
from domain.catalog.claims import Claim
from projections.runner import CatchUpRunner
from service.bootstrap.stores import build_app
from service.bulk_store import insert_in_one_transaction
from service.event_store import topics_of
from service.pg_listener import NotificationListener
from tests.conftest import make_settings

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from service.application import Jobstream

CREATED = get_topic(BatchJob.Created)
CLAIMED = get_topic(Claim.Created)


def new_job() -> BatchJob:
    return BatchJob.create(
        batch_type="t", created_by="usr_1", context={}, dry_run=True, actor="usr_1"
    )


def test_a_save_wakes_only_the_runners_that_follow_its_topics(app: Jobstream) -> None:
    handled: list[int] = []
    runner = CatchUpRunner(
        name="claims-only",
        recorder=app.recorder,
        mapper=app.mapper,
        topics=[CLAIMED],
        start_position=app.recorder.max_notification_id,
        handler=lambda batch: handled.extend(n for n, _ in batch),
        idle_seconds=60,  # only a wake makes it look again
    )
    app.save_listeners.append(runner.wake_for)
    runner.start()
    try:
        time.sleep(0.2)  # its first look, at start
        app.save(new_job())
        time.sleep(0.3)
        # Not woken: awake, it would have moved past the job's event.
        assert runner.position < (app.recorder.max_notification_id() or 0)
        assert handled == []
        before = runner.position

        app.save(Claim.take("test-claim:one", "owner", "usr_1"))
        deadline = time.monotonic() + 5
        while not handled and time.monotonic() < deadline:
            time.sleep(0.01)

        assert handled == [app.recorder.max_notification_id()]
        assert runner.position > before
    finally:
        runner.stop()


@pytest.mark.integration
def test_postgres_notify_names_the_topics_of_a_save_and_of_a_bulk_insert(
    postgres_url: str, tmp_path: Path
) -> None:
    app = build_app(make_settings(tmp_path, postgres_url))
    heard: list[Sequence[str] | None] = []
    ready = threading.Event()

    def on_notify(topics: Sequence[str] | None) -> None:
        heard.append(topics)
        ready.set()

    channel: Any = app.recorder.channel_name  # type: ignore[attr-defined]
    listener = NotificationListener(postgres_url, channel, on_notify)
    listener.start()
    try:
        time.sleep(0.5)  # LISTEN is in place
        app.save(new_job())
        assert ready.wait(5)
        ready.clear()
        claim = Claim.take("test-claim:bulk", "owner", "usr_1")
        stored = [app.mapper.to_stored_event(e) for e in claim.collect_events()]
        insert_in_one_transaction(app, [stored])
        assert ready.wait(5)

        assert heard == [[CREATED], [CLAIMED]]
    finally:
        listener.stop()
        app.close()


def test_an_empty_payload_names_no_topic_so_everything_wakes() -> None:
    assert topics_of("") is None
    assert topics_of("a:B,c:D") == ["a:B", "c:D"]
