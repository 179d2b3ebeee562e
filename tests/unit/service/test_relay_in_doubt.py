"""The relay in doubt about what the stream holds reads its tail and sends only the rest.

A clustered stream whose leader changed may have stored a page whose acks never came
and, on nats-server before 2.11, not know those messages' Nats-Msg-Ids any more: the
copies a plain re-publish sends would be stored twice. The event store is real (in
memory); the stream is a fake that stores what it is sent, in order, and can lose acks
and forget ids as such a leader change does.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from nats.js.errors import NotFoundError

from domain.strategies import BatchJobDraft
from service.application import Jobstream
from service.messaging import envelope
from service.messaging.relay import Relay
from tests.unit.service.test_relay_tracing import relay_over as tracing_relay_over


class LeaderLostError(TimeoutError):
    """The acks of a page that a stream leader lost: they never come."""


class ForgetfulStream:
    """A stream that dedupes by Nats-Msg-Id only while it remembers the ids."""

    def __init__(self) -> None:
        self.messages: dict[int, tuple[str, bytes, str]] = {}  # seq: subject, data, id
        self.remembered: set[str] = set()
        self.store_only = -1  # how many of the next publishes are stored; -1: all
        self.acks_lost = False  # stored, but the acks fail
        self.sent = 0

    def leader_changed(self) -> None:
        self.remembered.clear()  # what nats-server < 2.11 forgot across an election

    def ids(self) -> list[str]:
        return [msg_id for _, _, msg_id in self.messages.values()]

    async def publish_async(
        self, subject: str, payload: bytes, headers: dict[str, str]
    ) -> asyncio.Future[Any]:
        self.sent += 1
        acked: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        msg_id = headers["Nats-Msg-Id"]
        if self.store_only == 0:
            acked.set_exception(LeaderLostError())
            return acked
        self.store_only -= 1 if self.store_only > 0 else 0
        duplicate = msg_id in self.remembered
        if not duplicate:
            self.messages[len(self.messages) + 1] = (subject, payload, msg_id)
            self.remembered.add(msg_id)
        if self.acks_lost:
            acked.set_exception(LeaderLostError())
        else:
            acked.set_result(SimpleNamespace(duplicate=duplicate))
        return acked

    async def stream_info(self, name: str) -> Any:
        assert name == "JOBS"
        last = max(self.messages, default=0)
        return SimpleNamespace(state=SimpleNamespace(first_seq=1, last_seq=last))

    async def get_msg(self, name: str, seq: int) -> Any:
        assert name == "JOBS"
        if seq not in self.messages:
            raise NotFoundError
        subject, data, _ = self.messages[seq]
        return SimpleNamespace(subject=subject, data=data, seq=seq)


def relay_over(
    app: Jobstream, js: ForgetfulStream, stream: str | None = "JOBS"
) -> Relay:
    return tracing_relay_over(app, js, stream)


def jobs(app: Jobstream, count: int) -> list[str]:
    """`count` jobs, each with three events: created, pre-processed, confirmed."""
    ids = []
    for _ in range(count):
        job, _ = app.create_batch_job(
            BatchJobDraft(type="product-export", context={}, dry_run=True), "usr_1"
        )
        job.set_pre_processing_done("worker")
        job.confirm("usr_1")
        app.save(job)
        ids.append(job.id)
    return ids


def every_event_once(js: ForgetfulStream, ids: list[str]) -> bool:
    expected = sorted(f"{job_id}:{version}" for job_id in ids for version in (1, 2, 3))
    return sorted(js.ids()) == expected


@pytest.fixture
def app() -> Jobstream:
    return Jobstream(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


async def test_a_page_stored_whose_acks_were_lost_is_not_sent_again(
    app: Jobstream,
) -> None:
    ids = jobs(app, 3)
    js = ForgetfulStream()
    relay = relay_over(app, js)
    js.acks_lost = True
    with pytest.raises(LeaderLostError):
        await relay.publish_once()
    assert relay.position == 0  # nothing recorded: the page is in doubt
    js.acks_lost = False
    js.leader_changed()

    assert await relay.publish_once() == 9
    assert js.sent == 9  # the tail showed all nine stored: none sent again
    assert every_event_once(js, ids)
    assert relay.position == max(n.id for n in app.recorder.select_notifications(1, 20))


async def test_only_the_part_of_a_page_the_stream_lacks_is_sent_again(
    app: Jobstream,
) -> None:
    ids = jobs(app, 4)
    js = ForgetfulStream()
    relay = relay_over(app, js)
    js.store_only = 5  # the leader went with the rest of the page
    with pytest.raises(LeaderLostError):
        await relay.publish_once()
    js.store_only = -1
    js.leader_changed()

    await relay.publish_once()

    assert js.sent == 12 + 7  # the whole page once, then the seven it lacked
    assert every_event_once(js, ids)
    decoded = [envelope.decode(data) for _, data, _ in js.messages.values()]
    assert [m.position for m in decoded] == sorted(m.position for m in decoded)


async def test_a_new_leader_sends_nothing_its_predecessor_stored_past_the_record(
    app: Jobstream,
) -> None:
    ids = jobs(app, 2)
    js = ForgetfulStream()
    await relay_over(app, js).publish_once()  # published; its record is lost with it
    js.leader_changed()
    more = jobs(app, 1)
    successor = relay_over(app, js)  # position 0, as if the record never came

    await successor.publish_once()

    assert js.sent == 6 + 3  # only the new job's events
    assert every_event_once(js, ids + more)


async def test_once_the_acks_came_the_next_page_is_sent_without_reading_the_tail(
    app: Jobstream,
) -> None:
    jobs(app, 1)
    js = ForgetfulStream()
    relay = relay_over(app, js)
    await relay.publish_once()
    reads = 0
    original = js.stream_info

    async def counted(name: str) -> Any:
        nonlocal reads
        reads += 1
        return await original(name)

    js.stream_info = counted  # type: ignore[method-assign]
    jobs(app, 1)

    await relay.publish_once()

    assert reads == 0


async def test_without_a_stream_name_a_relay_in_doubt_relies_on_the_msg_id(
    app: Jobstream,
) -> None:
    ids = jobs(app, 1)
    js = ForgetfulStream()
    relay = relay_over(app, js, stream=None)
    js.acks_lost = True
    with pytest.raises(LeaderLostError):
        await relay.publish_once()
    js.acks_lost = False

    await relay.publish_once()

    assert js.sent == 6  # sent again, and the stream (remembering) dropped the copies
    assert every_event_once(js, ids)
