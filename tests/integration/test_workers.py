"""API process, relay and JetStream workers together, on a real nats-server."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Mapping

import msgspec
import nats
import pytest

from domain.batch_jobs import BatchJobStatus
from domain.strategies import BatchJobDraft
from service.relay_process import running_relay
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.registry import StrategyRegistry
from service.worker_process import running_worker
from tests.support import ScriptedStrategy, named

pytestmark = pytest.mark.integration


def create_jobs(
    runtime: Runtime, count: int, context: Mapping[str, object]
) -> list[str]:
    draft = BatchJobDraft(type="product-export", context=dict(context), dry_run=False)
    return [runtime.app.create_batch_job(draft, "usr_1")[0].id for _ in range(count)]


async def until_final(
    runtime: Runtime, job_ids: list[str], seconds: float = 30
) -> None:
    deadline = time.monotonic() + seconds
    final = {BatchJobStatus.COMPLETED, BatchJobStatus.FAILED, BatchJobStatus.CANCELED}
    for job_id in job_ids:
        while runtime.app.get_batch_job(job_id).status not in final:
            if time.monotonic() > deadline:
                status = runtime.app.get_batch_job(job_id).status
                raise AssertionError(f"{job_id} still {status}")
            await asyncio.sleep(0.02)


async def test_two_workers_run_every_job_exactly_once(
    api: Runtime, nats_settings: Settings
) -> None:
    job_ids = create_jobs(api, 20, {"pages": 2})

    async with (
        running_relay(nats_settings),
        running_worker(nats_settings, StrategyRegistry([ScriptedStrategy()])),
        running_worker(nats_settings, StrategyRegistry([ScriptedStrategy()])),
    ):
        await until_final(api, job_ids)

    for job_id in job_ids:
        events = list(api.app.repository.event_store.get(job_id))
        names = [name for name, _ in named(events)]
        assert names.count("batch.processing") == 1, names
        assert names.count("batch.completed") == 1, names
        assert "batch.failed" not in names
        progress = [
            e for e in events if "progress" in (getattr(e, "result", None) or {})
        ]
        assert len(progress) == 2  # both pages, once: process_job ran once
        assert all(actor.startswith("worker:") for _, actor in named(events)[1:])


async def test_a_malformed_work_message_is_terminated_and_work_goes_on(
    api: Runtime, nats_settings: Settings
) -> None:
    assert nats_settings.nats_url is not None
    async with (
        running_relay(nats_settings),
        running_worker(nats_settings, StrategyRegistry([ScriptedStrategy()])),
    ):
        connection = await nats.connect(nats_settings.nats_url)
        js = connection.jetstream()
        subject = f"{nats_settings.nats_subject_prefix}.batch.created"
        await js.publish(subject, b"{definitely not an envelope")
        job_ids = create_jobs(api, 3, {})
        await until_final(api, job_ids)
        durable = f"{nats_settings.worker_durable}-batch-created"
        await asyncio.sleep(0.5)
        info = await js.consumer_info(nats_settings.nats_stream, durable)
        await connection.close()

    assert [api.app.get_batch_job(j).status for j in job_ids] == ["completed"] * 3
    assert info.num_ack_pending == 0  # nothing left dangling
    assert info.num_redelivered == 0  # the poison message was never redelivered


async def deliveries(settings: Settings, event: str) -> int:
    """How many times the work consumer of `event` delivered a message, in all."""
    assert settings.nats_url is not None
    connection = await nats.connect(settings.nats_url)
    try:
        durable = f"{settings.worker_durable}-{event.replace('.', '-')}"
        info = await connection.jetstream().consumer_info(settings.nats_stream, durable)
        return int(info.delivered.consumer_seq or 0)
    finally:
        await connection.close()


async def test_a_retry_is_a_delayed_redelivery_then_the_job_completes(
    api: Runtime, nats_settings: Settings
) -> None:
    [job_id] = create_jobs(api, 1, {"fail": "flaky", "fail_times": 1, "retry": True})

    async with (
        running_relay(nats_settings),
        running_worker(nats_settings, StrategyRegistry([ScriptedStrategy()])),
    ):
        await until_final(api, [job_id])
        # The worker had room: batch.created's delivery ran the job on (ADR 010).
        delivered = await deliveries(nats_settings, "batch.created")

    job = api.app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.COMPLETED
    assert (job.result or {})["errors"] == ["flaky"]
    assert job.context["retry_count"] == 1
    assert job.runs_on_from_pre_processing
    # One message, delivered twice: the retry went back to JetStream.
    assert delivered == 2


async def test_exhausted_retries_fail_the_job_with_every_attempts_error(
    api: Runtime, nats_settings: Settings
) -> None:
    [job_id] = create_jobs(api, 1, {"fail": "down", "fail_times": 99, "retry": True})

    async with (
        running_relay(nats_settings),
        running_worker(nats_settings, StrategyRegistry([ScriptedStrategy()])),
    ):
        await until_final(api, [job_id])

    job = api.app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.FAILED
    assert (job.result or {})["errors"] == ["down", "down", "down"]  # 3 attempts


async def test_a_worker_stops_a_canceled_job_within_a_page(
    api: Runtime, nats_settings: Settings
) -> None:
    context = {"pages": 100, "sleep": 0.05, "stream_cancel_only": True}
    [job_id] = create_jobs(api, 1, context)

    async with (
        running_relay(nats_settings),
        running_worker(nats_settings, StrategyRegistry([ScriptedStrategy()])),
    ):
        deadline = time.monotonic() + 30
        while api.app.get_batch_job(job_id).status is not BatchJobStatus.PROCESSING:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
        api.app.cancel_batch_job(job_id, "usr_1")
        done_at_cancel = (api.app.get_batch_job(job_id).result or {}).get(
            "advancement_count", 0
        )
        await asyncio.sleep(1.0)  # 20 pages' time, had it gone on

    job = api.app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.CANCELED
    assert (job.result or {})["advancement_count"] <= done_at_cancel + 2


async def test_a_type_limit_keeps_its_jobs_from_running_at_once(
    api: Runtime, nats_settings: Settings
) -> None:
    limited = msgspec.structs.replace(
        nats_settings, type_concurrency="product-export=1"
    )
    job_ids = create_jobs(api, 3, {"pages": 4, "sleep": 0.05})

    async with (
        running_relay(limited),
        running_worker(limited, StrategyRegistry([ScriptedStrategy()])),
    ):
        await until_final(api, job_ids)

    windows = []
    for job_id in job_ids:
        job = api.app.get_batch_job(job_id)
        assert job.status is BatchJobStatus.COMPLETED
        assert job.processing_at is not None and job.completed_at is not None
        windows.append((job.processing_at, job.completed_at))
    windows.sort()
    for (_, earlier_end), (later_start, _) in itertools.pairwise(windows):
        assert (
            later_start >= earlier_end
        )  # one at a time, though the worker has 4 slots
