"""New jobs the relay publishes reach the worker beside it without a read of the job.

The event store is real (in memory); JetStream is a fake that hands back, as
deliveries, exactly the messages the relay published to it.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from domain.batch_jobs import BatchJob, BatchJobStatus
from service.application import Jobstream
from service.engine.jetstream import JetStreamWork, JetStreamWorkSource
from service.engine.loop import JobEngine
from service.engine.steps import JobSteps
from service.messaging.published_jobs import PublishedJobs
from service.strategies.registry import StrategyRegistry
from tests.unit.engine.harness import PlainStrategy, create, event_names, new_clock
from tests.unit.engine.test_jetstream_source import FakeDelivery, ScriptedFetcher
from tests.unit.service.test_relay_tracing import relay_over


class LoopbackJetStream:
    """Keeps each published message as the delivery JetStream would make of it."""

    def __init__(self) -> None:
        self.deliveries: dict[str, list[FakeDelivery]] = {}

    async def publish_async(
        self, subject: str, payload: bytes, headers: dict[str, str]
    ) -> asyncio.Future[Any]:
        event = subject.removeprefix("jobs.")
        self.deliveries.setdefault(event, []).append(FakeDelivery(payload))
        acked: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        acked.set_result(type("Ack", (), {"duplicate": False})())
        return acked


class CountedReads:
    """Counts the store's reads of batch jobs (the repository's `get`)."""

    def __init__(self, app: Jobstream) -> None:
        self.count = 0
        read = app.repository.get

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return read(*args, **kwargs)

        app.repository.get = counted  # type: ignore[method-assign]


async def published(app: Jobstream, kept: PublishedJobs | None) -> LoopbackJetStream:
    js = LoopbackJetStream()
    assert await relay_over(app, js, published_jobs=kept).publish_once() > 0
    return js


async def run_delivered(
    app: Jobstream, kept: PublishedJobs | None, deliveries: list[FakeDelivery]
) -> None:
    """The engine over a JetStream source, on a thread of its own as `serve` runs it."""
    steps = JobSteps(
        app=app,
        registry=StrategyRegistry([PlainStrategy()]),
        clock=new_clock(),
        run_on=False,
    )
    source = JetStreamWorkSource(
        ScriptedFetcher([deliveries]), asyncio.get_running_loop(), kept
    )
    engine = JobEngine(steps=steps, source=source, slots=4)
    steps.run_on_while(engine.has_room)
    await asyncio.to_thread(engine.run_pending)


def fetched(source: JetStreamWorkSource) -> list[JetStreamWork]:
    return source.fetch(16, 0.0)


async def test_the_relay_keeps_each_new_job_it_publishes_by_position() -> None:
    app = Jobstream(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    kept = PublishedJobs()
    first, second = create(app, batch_type="plain"), create(app, batch_type="plain")

    await published(app, kept)

    assert len(kept) == 2  # the Created events only
    assert kept.take(1, second) is None  # position 1 is the first job's
    job = kept.take(1, first)
    assert job is not None
    assert (job.id, job.status, job.version) == (first, BatchJobStatus.CREATED, 1)
    assert kept.take(1, first) is None  # taken once
    assert len(kept) == 1


async def test_a_new_jobs_delivery_carries_the_kept_copy_and_other_steps_none() -> None:
    app = Jobstream(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    kept = PublishedJobs()
    job_id = create(app, batch_type="plain", dry_run=True)
    job = app.get_batch_job(job_id)
    job.set_pre_processing_done("worker")
    job.confirm("usr_1")
    app.save(job)
    js = await published(app, kept)
    deliveries = js.deliveries["batch.created"] + js.deliveries["batch.confirmed"]
    source = JetStreamWorkSource(
        ScriptedFetcher([deliveries]), asyncio.get_running_loop(), kept
    )

    works = await asyncio.to_thread(fetched, source)

    created, confirmed = works
    assert created.created is not None
    assert (created.created.id, created.created.status) == (
        job_id,
        BatchJobStatus.CREATED,
    )
    assert confirmed.created is None
    assert len(kept) == 0


@pytest.mark.parametrize("kept", [PublishedJobs(), None], ids=["kept", "not kept"])
async def test_a_kept_job_runs_to_completion_with_one_read_fewer(
    kept: PublishedJobs | None,
) -> None:
    app = Jobstream(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    job_id = create(app, batch_type="plain")
    js = await published(app, kept)
    reads = CountedReads(app)

    await run_delivered(app, kept, js.deliveries["batch.created"])

    assert js.deliveries["batch.created"][0].outcome == ["ack"]
    assert app.get_batch_job(job_id).status is BatchJobStatus.COMPLETED
    # The job is read to decide its step unless its copy came with the delivery.
    assert reads.count - 1 == (0 if kept is not None else 1)


async def test_a_copy_of_a_job_canceled_since_leaves_it_canceled() -> None:
    app = Jobstream(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    kept = PublishedJobs()
    job_id = create(app, batch_type="plain")
    js = await published(app, kept)
    app.cancel_batch_job(job_id, "usr_1")  # after the relay kept the job as created

    await run_delivered(app, kept, js.deliveries["batch.created"])

    assert js.deliveries["batch.created"][0].outcome == ["ack"]
    assert app.get_batch_job(job_id).status is BatchJobStatus.CANCELED
    assert event_names(app, job_id) == ["batch.created", "batch.canceled"]


def test_past_its_bound_the_oldest_copy_goes() -> None:
    kept = PublishedJobs(kept=2)
    events = [
        BatchJob.create(
            batch_type="plain",
            created_by="usr_1",
            context={},
            dry_run=False,
            actor="usr_1",
        )
        for _ in range(3)
    ]
    for position, job in enumerate(events, start=1):
        (event,) = job.collect_events()
        kept.published(position, cast("BatchJob.Created", event))

    assert len(kept) == 2
    assert kept.take(1, events[0].id) is None
    assert [kept.take(p, events[p - 1].id) is not None for p in (2, 3)] == [True, True]
