"""`relay replay`, `events tail` and the example subscriber against a real nats-server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import msgspec
import nats
import pytest

from domain.batch_jobs import BatchJob
from examples.status_counts import StatusCounts, follow
from service.audit import stream
from service.bootstrap.stores import build_app
from service.settings import Settings

pytestmark = pytest.mark.integration


def save_jobs(settings: Settings, finals: list[str]) -> int:
    """A job per entry, driven to that status; the store's head after."""
    app = build_app(settings)
    try:
        jobs = []
        for final in finals:
            job = BatchJob.create(
                batch_type="t", created_by="usr_1", context={}, dry_run=False,
                actor="usr_1",
            )  # fmt: skip
            job.set_pre_processing_done("worker:1")  # + confirmed
            if final == "canceled":
                job.cancel("usr_1")
            elif final == "completed":
                job.set_processing("worker:1")
                job.complete("worker:1")
            jobs.append(job)
        app.save(*jobs)
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


async def replayed(settings: Settings, start: int, prefix: str) -> dict[str, int]:
    await stream.replay(settings, start, prefix, f"R_{prefix}", as_json=True)
    nc = await nats.connect(settings.nats_url or "")
    try:
        info = await nc.jetstream().stream_info(f"R_{prefix}")
        return {"messages": info.state.messages, "last_seq": info.state.last_seq}
    finally:
        await nc.close()


def test_replay_republishes_the_history_in_order_once_and_tail_shows_it(
    nats_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    save_jobs(nats_settings, ["completed", "canceled"])
    prefix = f"{nats_settings.nats_subject_prefix}r"

    first = asyncio.run(replayed(nats_settings, 1, prefix))
    report = json.loads(capsys.readouterr().out)
    again = asyncio.run(replayed(nats_settings, 1, prefix))
    report_again = json.loads(capsys.readouterr().out)
    tail_settings = msgspec.structs.replace(
        nats_settings, nats_stream=f"R_{prefix}", nats_subject_prefix=prefix
    )
    asyncio.run(stream.tail(tail_settings, None, 9, from_start=True, as_json=True))
    tailed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    assert report["published"] == 9  # 6 + 3 events
    assert first == {"messages": 9, "last_seq": 9}
    assert report_again["duplicates"] == 9
    assert again == first
    positions = [m["envelope"]["position"] for m in tailed]
    assert positions == sorted(positions)
    assert [m["stream_seq"] for m in tailed] == list(range(1, 10))
    assert tailed[0]["envelope"]["event"] == "batch.created"


async def follow_until_caught_up(
    settings: Settings, prefix: str, model: StatusCounts, durable: str
) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(
        follow(
            nats_url=settings.nats_url or "",
            stream=f"R_{prefix}",
            subject_prefix=prefix,
            durable=durable,
            model=model,
            stop=stop,
        )
    )
    nc = await nats.connect(settings.nats_url or "")
    try:
        info = await nc.jetstream().stream_info(f"R_{prefix}")
        for _ in range(200):
            if model.last_sequence() >= info.state.last_seq:
                break
            await asyncio.sleep(0.05)
    finally:
        await nc.close()
        stop.set()
        await task


def test_the_example_subscriber_counts_each_job_once_across_restarts(
    nats_settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = f"{nats_settings.nats_subject_prefix}s"
    head = save_jobs(nats_settings, ["completed", "canceled", "pre_processed"])
    asyncio.run(replayed(nats_settings, 1, prefix))
    model = StatusCounts(tmp_path / "counts.sqlite")
    asyncio.run(follow_until_caught_up(nats_settings, prefix, model, "counts"))
    after_first = model.counts()
    model.close()

    save_jobs(nats_settings, ["completed", "completed"])
    asyncio.run(replayed(nats_settings, head + 1, prefix))
    restarted = StatusCounts(tmp_path / "counts.sqlite")  # a new process, same file
    asyncio.run(follow_until_caught_up(nats_settings, prefix, restarted, "counts"))
    after_restart = restarted.counts()
    # A consumer that lost its acks (here: a new one) gets everything again.
    asyncio.run(follow_until_caught_up(nats_settings, prefix, restarted, "counts2"))

    assert after_first == {"completed": 1, "canceled": 1, "confirmed": 1}
    assert after_restart == {"completed": 3, "canceled": 1, "confirmed": 1}
    assert restarted.counts() == after_restart
    restarted.close()
