"""NATS under cuts and races: clients leave a silent node; first starts race safely.

A node that goes silent (tests/integration/blackhole.py: nothing forwarded, nothing
closed) is left for another node of the list within a few seconds. Processes starting
together on a fresh deployment all create the stream and the file bucket: each one
gets them, none fails.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import nats
import pytest
from nats.js.api import StreamConfig

from service.files.jetstream import JetStreamFileStorage
from service.messaging.streams import ensure_stream
from service.nats_client import MAX_OUTSTANDING_PINGS, PING_INTERVAL, connect
from tests.integration.blackhole import BlackHole

pytestmark = pytest.mark.integration
STARTING_TOGETHER = 6
# The documented bound: the third ping due with two unanswered, plus a reconnect.
LEAVE_WITHIN = PING_INTERVAL * (MAX_OUTSTANDING_PINGS + 1) + 1
SLACK = 2.0  # a busy 2-core machine


async def test_a_client_leaves_a_silent_node_for_another_within_seconds(
    nats_url: str,
) -> None:
    parts = urlsplit(nats_url)
    with BlackHole((parts.hostname or "127.0.0.1", parts.port or 4222)) as hole:
        via_hole = f"nats://{hole.url_host_port}"
        # nats-py shuffles the list: connect until the client came through the hole.
        for _ in range(20):
            nc = await connect([via_hole, nats_url], "partition-test")
            if nc.connected_url is not None and nc.connected_url.port == hole.port:
                break
            await nc.close()
        else:
            pytest.fail("never connected through the black hole")
        try:
            js = nc.jetstream()
            await js.account_info()
            hole.cut()
            cut_at = time.monotonic()
            while nc.connected_url is None or nc.connected_url.port == hole.port:
                assert time.monotonic() - cut_at < LEAVE_WITHIN + SLACK, "still on it"
                await asyncio.sleep(0.05)
            while not nc.is_connected:
                assert time.monotonic() - cut_at < LEAVE_WITHIN + SLACK, "no new node"
                await asyncio.sleep(0.05)
            left_after = time.monotonic() - cut_at
            assert (await js.account_info()).streams >= 0  # it serves from the other
        finally:
            hole.heal()
            await nc.close()
    assert left_after >= PING_INTERVAL  # noticed by its pings, not by a closed socket


async def test_processes_starting_together_all_get_the_stream(nats_url: str) -> None:
    tag = uuid.uuid4().hex[:8]
    name, prefix = f"RACE_{tag}", f"race{tag}"
    clients = [await nats.connect(nats_url) for _ in range(STARTING_TOGETHER)]
    try:
        await asyncio.gather(
            *(ensure_stream(nc.jetstream(), name, prefix) for nc in clients)
        )
        info = await clients[0].jetstream().stream_info(name)
        assert info.config.subjects == [f"{prefix}.>"]
    finally:
        await clients[0].jetstream().delete_stream(name)
        for nc in clients:
            await nc.close()


async def test_a_stream_created_meanwhile_with_other_settings_is_kept(
    nats_url: str,
) -> None:
    """Losing the race to an operator's (different) stream: theirs stays, no error."""
    tag = uuid.uuid4().hex[:8]
    name, prefix = f"RACE_{tag}", f"race{tag}"
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    try:
        await js.add_stream(
            StreamConfig(name=name, subjects=[f"{prefix}.>"], max_msgs=12345)
        )
        await ensure_stream(js, name, prefix)
        assert (await js.stream_info(name)).config.max_msgs == 12345
    finally:
        await js.delete_stream(name)
        await nc.close()


def test_workers_starting_together_all_get_the_file_bucket(nats_url: str) -> None:
    bucket = f"files-race-{uuid.uuid4().hex[:8]}"
    stores = [
        JetStreamFileStorage([nats_url], bucket) for _ in range(STARTING_TOGETHER)
    ]
    try:
        with ThreadPoolExecutor(STARTING_TOGETHER) as pool:
            found = list(pool.map(lambda store: store.exists("nothing-yet"), stores))
        assert found == [False] * STARTING_TOGETHER
        with stores[0].open_writer("exports/a.csv") as writer:
            writer.write(b"id\n1\n")
        assert all(store.size("exports/a.csv") == 5 for store in stores)
    finally:
        for store in stores:
            store.close()
        asyncio.run(_delete_bucket(nats_url, bucket))


async def _delete_bucket(nats_url: str, bucket: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().delete_object_store(bucket)
    finally:
        await nc.close()
