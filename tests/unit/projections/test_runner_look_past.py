"""A round woken for its own events stops where they end; moving past others to the
log's head (three queries) is for wakes that need it.

Under a steady load every round was followed by an empty one (the save's wake came
after the round had read the save), and that empty round asked for the head: on
PostgreSQL three round trips, about as long as the round itself.
"""

from __future__ import annotations

import threading
import time
from typing import Any, cast

from eventsourcing.persistence import Notification

from projections.runner import CatchUpRunner

OURS = "t:Ours"
OTHER = "t:Other"


class Log:
    """Notifications in memory, filtered by topic as a recorder does; counts head reads."""

    def __init__(self) -> None:
        self.notifications: list[Notification] = []
        self.head_reads = 0
        self.lock = threading.Lock()

    def append(self, topic: str) -> int:
        with self.lock:
            position = len(self.notifications) + 1
            self.notifications.append(
                Notification(
                    id=position,
                    originator_id=f"id_{position}",
                    originator_version=1,
                    topic=topic,
                    state=b"{}",
                )
            )
            return position

    def select_notifications(
        self, *, start: int, limit: int, topics: Any = (), **_: Any
    ) -> list[Notification]:
        with self.lock:
            return [
                n
                for n in self.notifications
                if n.id > start and (not topics or n.topic in topics)
            ][:limit]

    def max_notification_id(self) -> int:
        with self.lock:
            self.head_reads += 1
            return len(self.notifications)


class Mapper:
    def to_domain_event(self, notification: Notification) -> Notification:
        return notification


def runner_over(log: Log, idle_seconds: float = 60.0) -> CatchUpRunner:
    return CatchUpRunner(
        name="test",
        recorder=cast("Any", log),
        mapper=cast("Any", Mapper()),
        topics=(OURS,),
        start_position=lambda: 0,
        handler=lambda _: None,
        idle_seconds=idle_seconds,
    )


def until(condition: Any, seconds: float = 2.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within 2 s"
        time.sleep(0.005)


def test_an_empty_round_without_a_look_past_reads_no_head() -> None:
    log = Log()
    runner = runner_over(log)
    log.append(OURS)

    assert runner.run_once(look_past=False) == 1
    assert runner.run_once(look_past=False) == 0  # the save's late wake: nothing new
    assert log.head_reads == 0
    assert runner.position == 1


def test_a_look_past_moves_the_position_over_other_topics_to_the_head() -> None:
    log = Log()
    runner = runner_over(log)
    log.append(OURS)
    log.append(OTHER)
    runner.run_once(look_past=False)
    assert runner.position == 1

    assert runner.run_once(look_past=False) == 0
    assert runner.position == 1
    assert runner.run_once() == 0
    assert runner.position == 2
    assert log.head_reads == 1


def test_saves_of_its_own_topics_keep_a_running_runner_off_the_head() -> None:
    log = Log()
    runner = runner_over(log)
    runner.start()
    try:
        until(lambda: log.head_reads >= 1)  # the first round looks past (start)
        first = log.head_reads
        for _ in range(20):
            log.append(OURS)
            runner.wake_for([OURS])
            time.sleep(0.002)
        until(lambda: runner.position == 20)
        time.sleep(0.05)
        assert log.head_reads == first
    finally:
        runner.stop()


def test_saves_with_other_topics_and_waiters_move_it_past_them() -> None:
    log = Log()
    runner = runner_over(log)
    runner.start()
    try:
        log.append(OURS)
        log.append(OTHER)
        runner.wake_for([OURS, OTHER])  # one save of both: past the other too
        until(lambda: runner.position == 2)

        log.append(OTHER)
        runner.wake_for([OTHER])  # not ours: asleep
        time.sleep(0.05)
        assert runner.position == 2
        assert runner.wait_for(3, 2.0)  # a reader waits: the look past

        log.append(OTHER)
        runner.wake_to_record([OTHER])  # another process's save: recorded
        until(lambda: runner.position == 4)

        log.append(OURS)
        runner.wake_to_record([OURS])
        until(lambda: runner.position == 5)
    finally:
        runner.stop()


def test_an_idle_runner_looks_past_what_nobody_told_it() -> None:
    log = Log()
    runner = runner_over(log, idle_seconds=0.05)
    runner.start()
    try:
        until(lambda: log.head_reads >= 1)
        log.append(OTHER)  # stored without a wake
        until(lambda: runner.position == 1)
    finally:
        runner.stop()
