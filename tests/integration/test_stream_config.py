"""The stream's subjects and retention limits: set on creation, brought up to date after."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import TYPE_CHECKING

import nats
import pytest
from nats.js.api import StorageType, StreamConfig

from service.messaging.streams import StreamLimits, ensure_stream
from service.settings import load_settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from nats.aio.client import Client

pytestmark = pytest.mark.integration
HOUR = 3600.0


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await nats.connect(nats_url)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def names(nc: Client) -> AsyncIterator[tuple[str, str]]:
    """A stream name and subject prefix of this test's own; the stream is deleted after."""
    tag = uuid.uuid4().hex[:8]
    name, prefix = f"CFG_{tag}", f"c{tag}"
    try:
        yield name, prefix
    finally:
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await nc.jetstream().delete_stream(name)


async def test_a_new_stream_gets_the_limits_the_settings_name(
    nc: Client, names: tuple[str, str]
) -> None:
    name, prefix = names
    settings = load_settings(
        {
            "JOBSTREAM_STREAM_MAX_AGE_HOURS": "48",
            "JOBSTREAM_STREAM_MAX_BYTES": "5000000",
        }
    )

    await ensure_stream(nc.jetstream(), name, prefix, limits=StreamLimits.of(settings))

    config = (await nc.jetstream().stream_info(name)).config
    assert config.subjects == [f"{prefix}.>"]
    assert (config.max_age, config.max_bytes) == (48 * HOUR, 5_000_000)


async def test_a_new_stream_without_limits_keeps_everything(
    nc: Client, names: tuple[str, str]
) -> None:
    name, prefix = names

    await ensure_stream(
        nc.jetstream(), name, prefix, limits=StreamLimits.of(load_settings({}))
    )

    config = (await nc.jetstream().stream_info(name)).config
    assert (config.max_age or 0, config.max_bytes) == (0, -1)


async def test_an_old_stream_gains_the_catalog_subjects_and_the_limits(
    nc: Client, names: tuple[str, str]
) -> None:
    name, prefix = names
    js = nc.jetstream()
    # As an operator narrowed it by hand, with a limit of their own on messages.
    await js.add_stream(
        StreamConfig(
            name=name,
            subjects=[f"{prefix}.batch.>"],
            storage=StorageType.FILE,
            max_msgs=1000,
        )
    )
    with pytest.raises(nats.js.errors.NoStreamResponseError):  # no stream captures it
        await js.publish(f"{prefix}.catalog.product.created", b"{}", timeout=1)
    limits = StreamLimits(max_age_hours=1.5, max_bytes=2_000_000)

    await ensure_stream(js, name, prefix, limits=limits)

    config = (await js.stream_info(name)).config
    assert config.subjects == [f"{prefix}.batch.>", f"{prefix}.catalog.>"]
    assert (config.max_age, config.max_bytes, config.max_msgs) == (
        1.5 * HOUR,
        2_000_000,
        1000,
    )
    ack = await js.publish(f"{prefix}.catalog.product.created", b"{}")
    assert ack.stream == name


async def test_unset_limits_leave_hand_set_ones_and_zero_removes_them(
    nc: Client, names: tuple[str, str]
) -> None:
    name, prefix = names
    js = nc.jetstream()
    await js.add_stream(
        StreamConfig(
            name=name, subjects=[f"{prefix}.>"], max_age=7 * HOUR, max_bytes=10**7
        )
    )

    await ensure_stream(js, name, prefix, limits=StreamLimits())
    kept = (await js.stream_info(name)).config
    await ensure_stream(
        js, name, prefix, limits=StreamLimits(max_age_hours=0, max_bytes=0)
    )
    removed = (await js.stream_info(name)).config

    assert (kept.max_age, kept.max_bytes, kept.subjects) == (
        7 * HOUR,
        10**7,
        [f"{prefix}.>"],
    )
    assert (removed.max_age or 0, removed.max_bytes) == (0, -1)


async def test_processes_updating_an_old_stream_at_once_agree(
    nats_url: str, names: tuple[str, str], nc: Client
) -> None:
    name, prefix = names
    await nc.jetstream().add_stream(
        StreamConfig(name=name, subjects=[f"{prefix}.batch.>"])
    )
    clients = [await nats.connect(nats_url) for _ in range(6)]
    limits = StreamLimits(max_age_hours=24, max_bytes=None)
    try:
        await asyncio.gather(
            *(
                ensure_stream(c.jetstream(), name, prefix, limits=limits)
                for c in clients
            )
        )
    finally:
        for client in clients:
            await client.close()

    config = (await nc.jetstream().stream_info(name)).config
    assert config.subjects == [f"{prefix}.batch.>", f"{prefix}.catalog.>"]
    assert config.max_age == 24 * HOUR
