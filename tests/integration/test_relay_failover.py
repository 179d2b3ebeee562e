"""The relay's leader cut off from PostgreSQL: a standby leads within the bound.

The leader reaches the database through a black hole (tests/integration/blackhole.py)
that goes silent without closing anything, as a network partition does; its session
stays open on the server. Leadership is a lease timed by the database, so the standby
takes it once it expires, and the cut-off leader stops publishing before that.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import msgspec
import pytest
import structlog

from service.messaging.relay import Relay
from service.relay_process import running_relay
from service.settings import Settings
from tests.conftest import create_database, drop_database, make_settings
from tests.integration.blackhole import BlackHole
from tests.integration.test_relay import (
    head,
    seed_histories,
    stream_messages,
    until,
)

pytestmark = pytest.mark.integration
BOUND = 4.0  # JOBSTREAM_RELAY_LEADERSHIP_SECONDS for these tests
# A busy 2-core machine may answer a poll late: allowed on top of the bound.
SLACK = 1.5


@pytest.fixture
def pg_settings(nats_url: str, tmp_path: Path) -> Iterator[Settings]:
    tag = uuid.uuid4().hex[:8]
    name = f"jobstream_failover_{tag}"
    url = create_database(name)
    try:
        yield msgspec.structs.replace(
            make_settings(tmp_path, url),
            nats_url=nats_url,
            nats_stream=f"JOBS_{tag}",
            nats_subject_prefix=f"t{tag}",
            relay_leadership_seconds=BOUND,
        )
    finally:
        drop_database(name)


def leads(relay: Relay) -> bool:
    """Asked anew each time (a property mypy would otherwise take as constant)."""
    return relay.leading


def through(hole: BlackHole, database_url: str) -> str:
    parts = urlsplit(database_url)
    netloc = parts.netloc.rpartition("@")[0] + "@" + hole.url_host_port
    return urlunsplit(parts._replace(netloc=netloc))


async def test_a_cut_off_leader_is_replaced_within_the_bound_and_stops_publishing(
    pg_settings: Settings,
) -> None:
    assert pg_settings.database_url is not None
    target = urlsplit(pg_settings.database_url)
    before = seed_histories(pg_settings, 2)
    with (
        structlog.testing.capture_logs() as logs,
        BlackHole((target.hostname or "127.0.0.1", target.port or 5432)) as hole,
    ):
        cut_off = msgspec.structs.replace(
            pg_settings, database_url=through(hole, pg_settings.database_url)
        )
        async with running_relay(cut_off) as leader:
            await until(lambda: leader.leading)
            async with running_relay(pg_settings) as standby:
                await until(lambda: leader.position >= head(pg_settings))
                await asyncio.sleep(0.5)
                assert not standby.leading
                # It said so once, naming the leader, though it polled every 0.4 s.
                standing_by = [e for e in logs if e["event"] == "relay.standing_by"]
                assert len(standing_by) == 1
                assert standing_by[0]["leader"] != standing_by[0]["holder"]

                hole.cut()
                cut_at = time.monotonic()
                during = seed_histories(pg_settings, 3)
                stopped_at: float | None = None
                started_at: float | None = None
                while started_at is None and time.monotonic() < cut_at + 3 * BOUND:
                    now = time.monotonic()
                    if stopped_at is None and not leads(leader):
                        stopped_at = now
                    if leads(standby):
                        started_at = now
                    await asyncio.sleep(0.01)
                assert started_at is not None, "the standby never took over"
                assert started_at - cut_at <= BOUND + SLACK
                # The old leader gave up first: never two leaders at once.
                assert stopped_at is not None
                assert stopped_at <= started_at
                published_before_heal = leader.published

                await until(lambda: standby.position >= head(pg_settings))
                hole.heal()
                # The old leader's held-back reads now return: it publishes nothing.
                await asyncio.sleep(2.0)
                assert leader.published == published_before_heal
                assert not leads(leader)
                assert leads(standby)
                after = seed_histories(pg_settings, 1)
                await until(lambda: standby.position >= head(pg_settings))
                assert leader.published == published_before_heal

    lost = [e for e in logs if e["event"] == "relay.leadership_lost"]
    assert lost
    assert "not renewed in time" in lost[0]["reason"]
    leading = [e for e in logs if e["event"] == "relay.leading"]
    assert [e["term"] for e in leading][:2] == [1, 2]  # then the standby released

    messages = await stream_messages(pg_settings)
    per_job = Counter(m.job_id for _, m, _ in messages)
    for batch in (before, during, after):
        assert {job: per_job[job] for job in batch} == batch
