"""The outbox relay against a real nats-server: order, once, crash safety, one leader."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

import nats
import pytest

from domain.batch_jobs import BatchJob
from service.bootstrap.stores import build_app
from service.messaging import envelope
from service.messaging.relay import Relay
from service.relay_process import running_relay
from service.settings import Settings, nats_servers

pytestmark = pytest.mark.integration


class Crash(BaseException):
    """The relay process dies (not an error it would handle)."""


def seed_histories(settings: Settings, jobs: int) -> dict[str, int]:
    """Jobs with four events each, saved together; returns events per job id."""
    app = build_app(settings)
    try:
        created = []
        for _ in range(jobs):
            job = BatchJob.create(
                batch_type="t", created_by="usr_1", context={"n": 1}, dry_run=False,
                actor="usr_1",
            )  # fmt: skip
            job.update("worker:1", result={"count": 1})
            job.set_pre_processing_done("worker:1")  # + confirmed
            created.append(job)
        app.save(*created)
        return {job.id: job.version for job in created}
    finally:
        app.close()


def head(settings: Settings) -> int:
    app = build_app(settings)
    try:
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def stream_messages(
    settings: Settings,
) -> list[tuple[str | None, Any, dict[str, str]]]:
    """The stream's batch-job messages, in order: subject, envelope, headers."""
    assert settings.nats_url is not None
    connection = await nats.connect(nats_servers(settings.nats_url))
    try:
        js = connection.jetstream()
        count = (await js.stream_info(settings.nats_stream)).state.messages
        messages = []
        catalog = f"{settings.nats_subject_prefix}.catalog."
        for sequence in range(1, count + 1):
            raw = await js.get_msg(settings.nats_stream, sequence)
            if (raw.subject or "").startswith(catalog):
                continue  # products' events: tests/integration/test_catalog_stream.py
            headers = dict(raw.headers or {})
            messages.append((raw.subject, envelope.decode(raw.data or b""), headers))
        return messages
    finally:
        await connection.close()


async def test_events_reach_the_stream_in_order_once_in_the_envelope(
    nats_settings: Settings,
) -> None:
    ours = seed_histories(nats_settings, 5)
    target = head(nats_settings)

    async with running_relay(nats_settings) as relay:
        await until(lambda: relay.position >= target)

    messages = await stream_messages(nats_settings)
    positions = [message.position for _, message, _ in messages]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    mine = [(s, m, h) for s, m, h in messages if m.job_id in ours]
    assert Counter(m.job_id for _, m, _ in mine) == Counter(ours)
    prefix = nats_settings.nats_subject_prefix
    first_job = next(iter(ours))
    history = [(s, m) for s, m, _ in mine if m.job_id == first_job]
    assert [s for s, _ in history] == [
        f"{prefix}.batch.created", f"{prefix}.batch.updated",
        f"{prefix}.batch.pre_processed", f"{prefix}.batch.confirmed",
    ]  # fmt: skip
    created = history[0][1]
    assert (created.schema_version, created.job_version, created.actor) == (
        1,
        1,
        "usr_1",
    )
    assert created.event_id == f"{first_job}:1"
    assert created.payload == {
        "type": "t", "created_by": "usr_1", "context": {"n": 1}, "dry_run": False,
        "retry_of": None,
    }  # fmt: skip
    assert history[1][1].payload["result"] == {"count": 1}
    assert all(h["Nats-Msg-Id"] == m.event_id for _, m, h in mine)


async def publish_until_killed(settings: Settings) -> None:
    async with running_relay(settings) as doomed:
        await until(lambda: doomed.published > 0)
        await asyncio.sleep(0.3)


async def test_a_relay_killed_after_publishing_loses_and_duplicates_nothing(
    nats_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours = seed_histories(nats_settings, 4)
    target = head(nats_settings)

    def die(self: Relay, position: int) -> None:
        raise Crash  # after JetStream acked, before the position was recorded

    monkeypatch.setattr(Relay, "_record", die)
    with pytest.raises(Crash):
        await publish_until_killed(nats_settings)
    monkeypatch.undo()

    async with running_relay(nats_settings) as restarted:
        await until(lambda: restarted.position >= target)
        # It found the page on the stream (its tail, read on taking the lead).
        assert restarted.published == 0

    messages = await stream_messages(nats_settings)
    per_job = Counter(m.job_id for _, m, _ in messages if m.job_id in ours)
    assert per_job == Counter(ours)


async def test_only_one_relay_publishes_and_a_standby_takes_over(
    nats_settings: Settings,
) -> None:
    first_batch = seed_histories(nats_settings, 2)
    async with running_relay(nats_settings) as one:
        await until(lambda: one.leading)
        async with running_relay(nats_settings) as two:
            await until(lambda: one.position >= head(nats_settings))
            await asyncio.sleep(0.3)
            assert (one.leading, two.leading) == (True, False)
            assert two.published == 0
        # `two` stopped while standing by; `one` goes on leading.
        assert one.leading

    standby_events = seed_histories(nats_settings, 2)
    leader_process, standby_process = AsyncExitStack(), AsyncExitStack()
    leader = await leader_process.enter_async_context(running_relay(nats_settings))
    await until(lambda: leader.leading)
    standby = await standby_process.enter_async_context(running_relay(nats_settings))
    await until(lambda: leader.position >= head(nats_settings))
    await asyncio.sleep(0.2)
    assert not standby.leading
    assert standby.published == 0

    await leader_process.aclose()  # the leading process dies: its lock goes with it
    await until(lambda: standby.leading, seconds=10)
    late = seed_histories(nats_settings, 2)
    await until(lambda: standby.position >= head(nats_settings))
    await standby_process.aclose()

    messages = await stream_messages(nats_settings)
    per_job = Counter(m.job_id for _, m, _ in messages)
    for batch in (first_batch, standby_events, late):
        assert {job: per_job[job] for job in batch} == batch


async def test_an_event_reaches_the_stream_within_milliseconds(
    nats_settings: Settings,
) -> None:
    async with running_relay(nats_settings) as relay:
        await until(lambda: relay.leading)
        await until(lambda: relay.position >= head(nats_settings))
        started = time.monotonic()
        seed_histories(nats_settings, 1)
        target = head(nats_settings)
        await until(lambda: relay.position >= target, seconds=5)
        elapsed = time.monotonic() - started

    assert elapsed < 0.5
