"""A job whose work message JetStream lost is published again and runs (real NATS)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import msgspec
import nats
import pytest
from nats.js.errors import NotFoundError

from domain.batch_jobs import BatchJobStatus
from domain.strategies import BatchJobDraft
from service.messaging import envelope
from service.relay_process import running_relay
from service.runtime import Runtime
from service.settings import Settings, nats_servers
from service.strategies.registry import StrategyRegistry
from service.stream_names import consumer_name
from service.worker_process import running_worker
from tests.support import ScriptedStrategy, named

pytestmark = pytest.mark.integration
REDRIVE_AFTER = 1.0  # seconds; the relay sweeps every half second then


async def until(
    check: Callable[[], Awaitable[bool]], seconds: float, what: str
) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        await asyncio.sleep(0.05)


async def test_a_job_whose_message_was_lost_is_sent_again_and_completes(
    api: Runtime, nats_settings: Settings
) -> None:
    settings = msgspec.structs.replace(
        nats_settings, work_redrive_seconds=REDRIVE_AFTER
    )
    registry = StrategyRegistry([ScriptedStrategy()])
    assert settings.nats_url is not None
    connection = await nats.connect(nats_servers(settings.nats_url))
    js = connection.jetstream()
    stream, subject = (
        settings.nats_stream,
        f"{settings.nats_subject_prefix}.batch.created",
    )
    consumer = consumer_name(settings.worker_durable, "batch.created")
    try:
        async with running_worker(settings, registry):
            pass  # leaves the work consumers made, and no worker
        draft = BatchJobDraft(
            type="product-export", context={"pages": 1}, dry_run=False
        )
        job_id = api.app.create_batch_job(draft, "usr_1")[0].id

        async with running_relay(settings):

            async def queued() -> bool:
                return bool((await js.consumer_info(stream, consumer)).num_pending == 1)

            await until(queued, 10, "the job's batch.created in the consumer")
            # Queued, so not lost: not sent again.
            await asyncio.sleep(3 * REDRIVE_AFTER)
            assert (await js.stream_info(stream)).state.messages == 1

            original = await js.get_last_msg(stream, subject)
            assert original.seq is not None
            await js.delete_msg(stream, original.seq)  # lost, as in a server crash

            async def sent_again() -> bool:
                try:
                    copy = await js.get_last_msg(stream, subject)
                except NotFoundError:
                    return False
                return copy.seq != original.seq

            await until(sent_again, 10, "the job's batch.created published again")
            copy = await js.get_last_msg(stream, subject)
            message = envelope.decode(copy.data or b"")
            assert (message.job_id, message.event) == (job_id, "batch.created")
            assert (copy.headers or {})["Nats-Msg-Id"].startswith(
                f"{job_id}:1:redrive:"
            )

            async with running_worker(settings, registry):

                async def completed() -> bool:
                    job = api.app.get_batch_job(job_id)
                    return job.status is BatchJobStatus.COMPLETED

                await until(completed, 30, "the job's completion")
            # Nothing sends the work of a job that moved on again.
            await asyncio.sleep(3 * REDRIVE_AFTER)
            sent = [
                await js.get_msg(stream, sequence)
                for sequence in range(
                    original.seq + 1, (await js.stream_info(stream)).state.last_seq + 1
                )
            ]
    finally:
        await connection.close()

    names = [name for name, _ in named(api.app.repository.event_store.get(job_id))]
    assert names.count("batch.pre_processed") == 1, names
    assert names.count("batch.completed") == 1, names
    assert [message.subject for message in sent].count(subject) == 1
