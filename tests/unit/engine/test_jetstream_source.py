"""The engine over JetStream deliveries: ack, nak with delay, term, heartbeats.

The subscription and its messages are fakes with nats-py's shape; the engine and the
application are real (in memory), driven from a thread as the worker drives them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

from nats.errors import TimeoutError as NatsTimeoutError

from domain.batch_jobs import BatchJobStatus
from domain.strategies import JobRun
from service.engine.jetstream import JetStreamWorkSource
from service.engine.loop import JobEngine
from service.engine.steps import JobSteps
from service.engine.work import Work
from service.messaging import envelope
from service.strategies.registry import StrategyRegistry
from tests.unit.engine.harness import (
    Script,
    ScriptedStrategy,
    create,
    new_app,
    new_clock,
    raises,
)


@dataclass
class FakeDelivery:
    data: bytes
    delivered: int = 1
    outcome: list[str] = field(default_factory=list)

    @property
    def metadata(self) -> Any:
        return SimpleNamespace(num_delivered=self.delivered)

    async def ack(self) -> None:
        self.outcome.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.outcome.append(f"nak:{delay}")

    async def term(self) -> None:
        self.outcome.append("term")

    async def in_progress(self) -> None:
        self.outcome.append("in_progress")


class ScriptedFetcher:
    """Raises what nats-py may raise on idle or failed fetches, then delivers."""

    def __init__(self, outcomes: list[Any]) -> None:
        self.outcomes = outcomes
        self.unsubscribed = False

    async def fetch(self, batch: int = 1, timeout: float | None = 5) -> list[Any]:  # noqa: ASYNC109
        await asyncio.sleep(0)
        outcome = self.outcomes.pop(0) if self.outcomes else NatsTimeoutError()
        if isinstance(outcome, BaseException):
            raise outcome
        return list(outcome)

    async def unsubscribe(self) -> None:
        self.unsubscribed = True


def message(event: str, job_id: str) -> bytes:
    return envelope.encode(
        envelope.EventEnvelope(
            event_id=f"{job_id}:1",
            job_id=job_id,
            job_version=1,
            event=event,
            occurred_at=datetime.now(UTC),
            actor="usr_1",
            position=7,
            payload={},
        )
    )


def engine(
    script: Script, fetcher: ScriptedFetcher, *, slots: int | None = None
) -> tuple[JobEngine, Any]:
    """Without `slots`, jobs are only confirmed by batch.created's delivery; with
    them, run on while the engine has room, as `jetstream_engines` sets it up."""
    app = new_app()
    steps = JobSteps(
        app=app,
        registry=StrategyRegistry([ScriptedStrategy(script)]),
        clock=new_clock(),
        run_on=False,
    )
    source = JetStreamWorkSource(fetcher, asyncio.get_running_loop())
    jobs = JobEngine(steps=steps, source=source, slots=slots or 4)
    if slots is not None:
        steps.run_on_while(jobs.has_room)
    return jobs, app


async def test_a_job_is_run_then_acked() -> None:
    fetcher = ScriptedFetcher([])
    jobs, app = engine(Script(), fetcher)
    job_id = create(app)
    delivery = FakeDelivery(message("batch.created", job_id), delivered=3)
    fetcher.outcomes.append([delivery])

    assert await asyncio.to_thread(jobs.run_pending) == 1

    assert delivery.outcome == ["ack"]
    assert app.get_batch_job(job_id).status is BatchJobStatus.CONFIRMED


async def test_with_room_a_new_job_runs_on_and_its_confirmed_one_is_acked() -> None:
    fetcher = ScriptedFetcher([])
    script = Script()
    jobs, app = engine(script, fetcher, slots=4)  # 1 running + 1 kept free <= 4
    job_id = create(app)
    created = FakeDelivery(message("batch.created", job_id))
    confirmed = FakeDelivery(message("batch.confirmed", job_id))
    fetcher.outcomes += [[created], [confirmed]]

    await asyncio.to_thread(jobs.run_pending)

    assert (created.outcome, confirmed.outcome) == (["ack"], ["ack"])
    assert script.runs == ["pre_process", "process"]  # once, by batch.created's
    job = app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.COMPLETED
    assert job.runs_on_from_pre_processing


async def test_without_room_a_new_job_is_left_to_its_confirmed_delivery() -> None:
    fetcher = ScriptedFetcher([])
    script = Script()
    jobs, app = engine(script, fetcher, slots=1)  # the one slot is the reserve
    job_id = create(app)
    created = FakeDelivery(message("batch.created", job_id))
    fetcher.outcomes.append([created])

    await asyncio.to_thread(jobs.run_pending)

    assert created.outcome == ["ack"]
    assert app.get_batch_job(job_id).status is BatchJobStatus.CONFIRMED
    confirmed = FakeDelivery(message("batch.confirmed", job_id))
    fetcher.outcomes.append([confirmed])
    await asyncio.to_thread(jobs.run_pending)
    job = app.get_batch_job(job_id)
    assert (job.status, job.runs_on_from_pre_processing) == (
        BatchJobStatus.COMPLETED,
        False,
    )


def test_room_to_run_on_keeps_a_quarter_of_the_slots_free() -> None:
    jobs = JobEngine(steps=None, source=None, slots=8)  # type: ignore[arg-type]
    rooms = []
    for running in range(8):
        jobs._running = dict.fromkeys(range(running), cast("Work", None))
        rooms.append(jobs.has_room())
    assert rooms == [True] * 7 + [False]  # 6 running + 2 free: the last with room


async def test_a_retry_is_nakd_with_its_delay() -> None:
    fetcher = ScriptedFetcher([])
    jobs, app = engine(Script(process=[raises("first")], retry=True), fetcher)
    job_id = create(app)
    created = FakeDelivery(message("batch.created", job_id))
    confirmed = FakeDelivery(message("batch.confirmed", job_id))
    fetcher.outcomes += [[created], [confirmed]]

    await asyncio.to_thread(jobs.run_pending)

    assert confirmed.outcome == ["nak:1.0"]
    assert app.get_batch_job(job_id).result == {"errors": ["first"]}


async def test_a_malformed_message_is_terminated_and_other_events_acked() -> None:
    fetcher = ScriptedFetcher([])
    jobs, _ = engine(Script(), fetcher)
    poison = FakeDelivery(b"not an envelope")
    not_work = FakeDelivery(message("batch.completed", "batch_1"))
    fetcher.outcomes.append([poison, not_work])

    assert await asyncio.to_thread(jobs.run_pending) == 0

    assert (poison.outcome, not_work.outcome) == (["term"], ["ack"])


async def test_a_running_job_heartbeats_on_each_tick() -> None:
    fetcher = ScriptedFetcher([])
    script = Script()
    jobs, app = engine(script, fetcher)
    script.pre_process += [lambda _: jobs.tick(), lambda _: jobs.tick()]
    first, second = create(app), create(app)
    deliveries = [FakeDelivery(message("batch.created", j)) for j in (first, second)]
    fetcher.outcomes.append(deliveries)

    await asyncio.to_thread(jobs.run_pending)

    assert [d.outcome for d in deliveries] == [["in_progress", "ack"]] * 2


async def test_the_engine_survives_every_kind_of_failed_fetch() -> None:
    fetcher = ScriptedFetcher([])
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    script = Script()
    jobs, app = engine(script, fetcher)

    def finished(_: JobRun) -> None:
        loop.call_soon_threadsafe(done.set)

    script.pre_process.append(finished)
    delivery = FakeDelivery(message("batch.created", create(app)))
    fetcher.outcomes += [
        NatsTimeoutError(),
        TimeoutError(),
        OSError("connection reset"),
        [delivery],
    ]

    jobs.start()
    try:
        await asyncio.wait_for(done.wait(), 10)
    finally:
        await asyncio.to_thread(jobs.stop)

    assert delivery.outcome == ["ack"]
    assert fetcher.unsubscribed


async def test_a_stopping_engine_gives_back_what_its_last_fetch_brought() -> None:
    fetcher = ScriptedFetcher([])
    script = Script()
    jobs, app = engine(script, fetcher)
    delivery = FakeDelivery(message("batch.created", create(app)))

    class StoppedWhileFetching(ScriptedFetcher):
        async def fetch(self, batch: int = 1, timeout: float | None = 5) -> list[Any]:  # noqa: ASYNC109
            jobs._stop.set()
            return [delivery]

    jobs.source = JetStreamWorkSource(
        StoppedWhileFetching([]), asyncio.get_running_loop()
    )
    jobs.start()
    await asyncio.to_thread(jobs.stop)

    assert script.runs == []  # not started
    assert delivery.outcome == ["nak:None"]  # back to JetStream at once, for others
