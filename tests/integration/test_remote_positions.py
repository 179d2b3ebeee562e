"""Read-model positions told by PostgreSQL NOTIFY, and the poll that covers a lost one."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import Tracking

from projections.read_models.known import BATCH_JOBS
from service.pg_listener import NotificationListener
from service.read_models.position_notices import PositionNotices
from service.read_models.remote_positions import NotifiedRemotePositions
from service.stores import infrastructure
from tests.conftest import make_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def channel() -> str:
    return f"positions_{uuid.uuid4().hex[:8]}"


@contextlib.contextmanager
def listening(
    postgres_url: str, channel: str, recorded: dict[str, int], fallback: float
) -> Iterator[NotifiedRemotePositions]:
    """Positions fed as a process's listener feeds them (on its events connection)."""
    remote = NotifiedRemotePositions(
        lambda name: recorded[name], fallback_seconds=fallback
    )
    listener = NotificationListener(
        postgres_url, f"{channel}_events", lambda _: None,
        on_connect=lambda: remote.listening_changed(listening=True),
        on_disconnect=lambda: remote.listening_changed(listening=False),
        also={channel: remote.heard},
    )  # fmt: skip
    listener.start()
    try:
        deadline = time.monotonic() + 10
        while not remote.listening:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        yield remote
    finally:
        listener.stop()


def test_a_notice_wakes_the_waiter_long_before_the_fallback_poll(
    postgres_url: str, channel: str, tmp_path: Path
) -> None:
    view = BATCH_JOBS.view_class("postgres")
    factory = infrastructure(make_settings(tmp_path, postgres_url), "batchjobs", 1)
    datastore = factory.tracking_recorder(view).datastore
    recorded = {"catalog": 3}  # the store: what a poll would read
    with (
        contextlib.closing(factory),
        listening(postgres_url, channel, recorded, fallback=30.0) as remote,
    ):
        assert remote.position("catalog") == 3
        notices = PositionNotices(datastore, channel)
        threading.Timer(0.1, notices.tell, ("catalog", 9)).start()
        started = time.monotonic()

        reached = remote.wait("catalog", 9, timeout=20)

        assert reached
        assert time.monotonic() - started < 5  # not the 30 s poll
        assert remote.position("catalog") == 9


def test_a_lost_notice_is_covered_by_the_fallback_poll(
    postgres_url: str, channel: str
) -> None:
    recorded = {"batchjobs": 1}
    with listening(postgres_url, channel, recorded, fallback=0.2) as remote:
        assert remote.position("batchjobs") == 1
        recorded["batchjobs"] = 4  # recorded, never told

        assert remote.wait("batchjobs", 4, timeout=10)
        assert not remote.wait("batchjobs", 5, timeout=0.5)


def test_notices_of_other_payloads_are_ignored(postgres_url: str, channel: str) -> None:
    recorded = {"batchjobs": 1}
    with listening(postgres_url, channel, recorded, fallback=30.0) as remote:
        remote.position("batchjobs")
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute("SELECT pg_notify(%s, %s)", (channel, "not a notice"))
            conn.execute("SELECT pg_notify(%s, %s)", (channel, "batchjobs:2"))

        assert remote.wait("batchjobs", 2, timeout=10)


def test_the_transaction_that_records_a_position_tells_it_and_tell_adds_none(
    postgres_url: str, channel: str, tmp_path: Path
) -> None:
    factory = infrastructure(make_settings(tmp_path, postgres_url), "batchjobs", 1)
    view = factory.tracking_recorder(BATCH_JOBS.view_class("postgres"))
    notices = PositionNotices(view.datastore, channel)
    view.on_tracked = notices.in_transaction("batchjobs")
    heard: list[str] = []
    upstream = f"upstream_{uuid.uuid4().hex[:8]}"
    recorded = {"batchjobs": 0}
    with (
        contextlib.closing(factory),
        listening(postgres_url, channel, recorded, fallback=30.0) as remote,
    ):
        listen = psycopg.connect(postgres_url, autocommit=True)
        listen.execute(f"LISTEN {channel}")
        with contextlib.closing(listen):
            with view.transaction(commit=False) as curs:  # rolled back: nothing told
                view.track(curs, Tracking(upstream, 5))
            with view.transaction(commit=True) as curs:
                view.track(curs, Tracking(upstream, 7))
            assert remote.wait("batchjobs", 7, timeout=5)  # told at the commit

            notices.tell("batchjobs", 7)  # the runner's advance: told already
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                heard += [
                    n.payload for n in listen.notifies(timeout=0.2, stop_after=10)
                ]
            assert heard == ["batchjobs:7"]

            notices.tell("batchjobs", 8)  # passed over other topics: told after
            assert remote.wait("batchjobs", 8, timeout=5)
