"""Processes starting together create the stream and the file bucket once, no error."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor

import nats
import pytest

from service.files.jetstream import JetStreamFileStorage
from service.messaging.streams import ensure_stream

pytestmark = pytest.mark.integration
RACERS = 6


async def test_racing_workers_create_one_stream(nats_url: str) -> None:
    name, prefix = f"RACE_{uuid.uuid4().hex[:8]}", f"r{uuid.uuid4().hex[:8]}"
    clients = [await nats.connect(nats_url) for _ in range(RACERS)]
    try:
        await asyncio.gather(
            *(ensure_stream(nc.jetstream(), name, prefix) for nc in clients)
        )
        info = await clients[0].jetstream().stream_info(name)
        assert info.config.subjects == [f"{prefix}.>"]
    finally:
        for nc in clients:
            await nc.close()


def test_racing_file_stores_create_one_bucket_and_share_it(nats_url: str) -> None:
    bucket = f"race-{uuid.uuid4().hex[:8]}"
    stores = [JetStreamFileStorage([nats_url], bucket) for _ in range(RACERS)]
    try:
        with ThreadPoolExecutor(RACERS) as pool:
            # The first call of each connects, and creates the bucket if missing.
            found = list(pool.map(lambda store: store.exists("a/key.csv"), stores))
        assert found == [False] * RACERS
        stores[0].put("a/key.csv", [b"written by one"])
        assert all(store.exists("a/key.csv") for store in stores)
    finally:
        for store in stores:
            store.close()
