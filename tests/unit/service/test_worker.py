"""The worker's handling of one delivery: ack, nak with backoff, or term."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from nats.errors import TimeoutError as NatsTimeoutError

from service.messaging import envelope
from service.messaging.worker import handle_delivery, run_consumer


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


def message(event: str = "batch.created", job_id: str = "batch_1") -> bytes:
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


async def test_a_job_is_run_then_acked() -> None:
    calls: list[tuple[str, int]] = []
    delivery = FakeDelivery(message(), delivered=3)

    done = await handle_delivery(
        delivery,
        {"batch.created": lambda job, attempt: calls.append((job, attempt))},
        heartbeat_seconds=10,
    )

    assert (done, delivery.outcome, calls) == ("ack", ["ack"], [("batch_1", 3)])


async def test_a_malformed_message_is_terminated_not_retried() -> None:
    for garbage in (b"{not json", b'{"event": "batch.created"}', b"[]"):
        delivery = FakeDelivery(garbage)

        done = await handle_delivery(delivery, {}, heartbeat_seconds=10)

        assert (done, delivery.outcome) == ("term", ["term"])


async def test_a_failing_handler_is_redelivered_later_with_backoff() -> None:
    def broken(job: str, attempt: int) -> None:
        raise OSError("database unreachable")

    first, fourth = FakeDelivery(message()), FakeDelivery(message(), delivered=4)

    await handle_delivery(first, {"batch.created": broken}, heartbeat_seconds=10)
    await handle_delivery(fourth, {"batch.created": broken}, heartbeat_seconds=10)

    assert first.outcome == ["nak:1.0"]
    assert fourth.outcome == ["nak:8.0"]


async def test_events_that_are_not_work_are_acked_untouched() -> None:
    delivery = FakeDelivery(message("batch.updated"))

    done = await handle_delivery(
        delivery, {"batch.created": print}, heartbeat_seconds=10
    )

    assert (done, delivery.outcome) == ("ack", ["ack"])


async def test_a_long_job_sends_heartbeats() -> None:
    delivery = FakeDelivery(message())

    def slow(job: str, attempt: int) -> None:
        time.sleep(0.25)

    await handle_delivery(delivery, {"batch.created": slow}, heartbeat_seconds=0.05)

    assert delivery.outcome[-1] == "ack"
    assert delivery.outcome.count("in_progress") >= 3


class ScriptedFetcher:
    """Raises what nats-py may raise on idle or failed fetches, then delivers."""

    def __init__(self, outcomes: list[Any]) -> None:
        self.outcomes = outcomes
        self.unsubscribed = False

    async def fetch(self, batch: int = 1, timeout: float | None = 5) -> list[Any]:  # noqa: ASYNC109
        await asyncio.sleep(0)
        outcome = self.outcomes.pop(0) if self.outcomes else []
        if isinstance(outcome, BaseException):
            raise outcome
        return list(outcome)

    async def unsubscribe(self) -> None:
        self.unsubscribed = True


async def test_a_consumer_survives_every_kind_of_failed_fetch() -> None:
    delivery = FakeDelivery(message())
    fetcher = ScriptedFetcher(
        [NatsTimeoutError(), TimeoutError(), OSError("connection reset"), [delivery]]
    )
    stop = asyncio.Event()
    handled: list[str] = []

    async def handle(d: Any) -> str:
        handled.append("handled")
        stop.set()
        return "ack"

    await asyncio.wait_for(
        run_consumer(fetcher, handle, asyncio.Semaphore(4), stop), 10
    )

    assert handled == ["handled"]
    assert fetcher.unsubscribed


async def test_a_stopping_consumer_gives_back_what_its_last_fetch_brought() -> None:
    delivery = FakeDelivery(message())
    stop = asyncio.Event()

    class StoppedWhileFetching(ScriptedFetcher):
        async def fetch(self, batch: int = 1, timeout: float | None = 5) -> list[Any]:  # noqa: ASYNC109
            stop.set()  # SIGTERM arrives while the fetch waits
            return [delivery]

    handled: list[Any] = []

    async def handle(d: Any) -> str:
        handled.append(d)
        return "ack"

    slots = asyncio.Semaphore(4)
    await asyncio.wait_for(
        run_consumer(StoppedWhileFetching([]), handle, slots, stop), 10
    )

    assert handled == []  # not started
    assert delivery.outcome == ["nak:None"]  # back to JetStream at once, for others
    assert slots._value == 4  # every slot released
