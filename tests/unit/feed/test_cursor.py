"""FeedCursor over an in-memory log: order, each job's state, visibility, bounds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from eventsourcing.persistence import Notification

from domain.batch_jobs import BatchJob
from service.feed.cursor import FEED_TOPICS, FeedCursor

ALICE, BOB = "usr_alice", "usr_bob"


@dataclass
class MemoryLog:
    """The store as the cursor reads it, counting the events it decodes."""

    events: list[BatchJob.Event] = field(default_factory=list)
    decoded: int = 0
    histories_read: list[tuple[str, int]] = field(default_factory=list)

    def add(self, job: BatchJob) -> None:
        self.events += [cast("BatchJob.Event", e) for e in job.collect_events()]

    def notifications(self, after: int, limit: int) -> list[Notification]:
        shown = [
            Notification(
                id=position,
                originator_id=event.originator_id,
                originator_version=event.originator_version,
                topic=type(event).__qualname__,
                state=b"",
            )
            for position, event in enumerate(self.events, start=1)
            if position > after and not isinstance(event, BatchJob.LeaseTaken)
        ]
        return shown[:limit]

    def event(self, notification: Notification) -> BatchJob.Event:
        self.decoded += 1
        return self.events[notification.id - 1]

    def events_until(self, job_id: str, version: int) -> list[BatchJob.Event]:
        self.histories_read.append((job_id, version))
        return [
            e for e in self.events
            if e.originator_id == job_id and e.originator_version <= version
        ]  # fmt: skip


def job_of(owner: str) -> BatchJob:
    return BatchJob.create(
        batch_type="product-export", created_by=owner, context={}, dry_run=False,
        actor=owner,
    )  # fmt: skip


def run(job: BatchJob, pages: int = 1) -> None:
    job.set_pre_processing_done("w")
    job.set_processing("w")
    for page in range(1, pages + 1):
        job.update("w", result={"advancement_count": page})
    job.complete("w")


def read_all(cursor: FeedCursor) -> list[tuple[int, str, str, str]]:
    read = []
    while True:
        items, more = cursor.next_page()
        read += [
            (i.position, i.change.id, i.change.event, i.change.status) for i in items
        ]
        if not more:
            return read


def test_each_event_comes_with_its_jobs_status_after_it_in_log_order() -> None:
    log = MemoryLog()
    job = job_of(ALICE)
    run(job, pages=2)
    log.add(job)

    read = read_all(FeedCursor(log, after=0, viewer=None, page_size=3))

    assert [(p, e, s) for p, _, e, s in read] == [
        (1, "batch.created", "created"), (2, "batch.pre_processed", "pre_processed"),
        (3, "batch.confirmed", "confirmed"), (4, "batch.processing", "processing"),
        (5, "batch.updated", "processing"), (6, "batch.updated", "processing"),
        (7, "batch.completed", "completed"),
    ]  # fmt: skip
    assert log.histories_read == []  # every state folded from what it read


def test_a_job_met_midway_is_folded_from_its_stored_events() -> None:
    log = MemoryLog()
    job = job_of(ALICE)
    run(job, pages=2)
    log.add(job)

    cursor = FeedCursor(log, after=5, viewer=None)
    items, _ = cursor.next_page()

    assert [(i.change.event, i.change.result) for i in items] == [
        ("batch.updated", {"advancement_count": 2}),
        ("batch.completed", {"advancement_count": 2}),
    ]
    assert log.histories_read == [(job.id, 6)]
    assert cursor.position == 7


def test_a_viewer_sees_only_their_jobs_and_others_are_not_decoded_twice() -> None:
    log = MemoryLog()
    mine, theirs = job_of(ALICE), job_of(BOB)
    log.add(mine)
    log.add(theirs)
    run(theirs, pages=5)
    log.add(theirs)
    run(mine)
    log.add(mine)

    read = read_all(FeedCursor(log, after=0, viewer=ALICE))

    assert {job_id for _, job_id, _, _ in read} == {mine.id}
    assert len(read) == mine.version
    assert log.decoded == mine.version + 1  # Bob's job: its created event only


def test_a_job_filter_shows_that_job_only_and_moves_past_the_rest() -> None:
    log = MemoryLog()
    one, other = job_of(ALICE), job_of(ALICE)
    run(other)
    log.add(other)
    log.add(one)

    cursor = FeedCursor(log, after=0, viewer=ALICE, job_id=one.id)
    read = read_all(cursor)

    assert [job_id for _, job_id, _, _ in read] == [one.id]
    assert cursor.position == len(log.events)


def test_a_reader_keeps_the_states_of_a_bounded_number_of_jobs() -> None:
    log = MemoryLog()
    jobs = [job_of(ALICE) for _ in range(10)]
    for job in jobs:
        log.add(job)
    for job in jobs:
        run(job)
        log.add(job)

    cursor = FeedCursor(log, after=0, viewer=None, cache_size=3)
    read = read_all(cursor)

    assert len(read) == sum(job.version for job in jobs)
    assert len(cursor._states) == 3
    # Each job, pushed out by the ten others, was folded again when met again.
    assert sorted(log.histories_read) == sorted((job.id, 2) for job in jobs)


def test_the_feed_leaves_lease_bookkeeping_out() -> None:
    assert all("Lease" not in topic for topic in FEED_TOPICS)
    assert any(topic.endswith("BatchJob.Retried") for topic in FEED_TOPICS)
