"""Catch-up runner: pulls notifications in order, hands batches to a handler.

eventsourcing 9.5's ProjectionRunner needs recorder subscriptions, which SQLite lacks,
and commits once per event. This runner pulls (works on every backend), hands whole
batches to its handler (one transaction per batch), and wakes on demand, so a write in
this process, or a PostgreSQL NOTIFY from another, is seen within milliseconds.

A poison message (a notification the handler fails on for reasons of its own, not of
the database's) must not stop the events after it. Given `on_poison`, the runner
retries a failed page one notification at a time, retries the one that fails
`POISON_ATTEMPTS` times in all (a fraction of a second), then hands it to `on_poison`,
which parks it (projections.parking) and moves the position past it. Errors of the
database (connection lost, locked, disk full) are retried forever instead: the event
is fine, the store is not.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    InterfaceError,
    Mapper,
    Notification,
    OperationalError,
)

from projections.position_waiters import PositionWaiters

# The handler gets (notification id, domain event) pairs, in notification order.
Handler = Callable[[Sequence[tuple[int, Any]]], None]
# Parks a notification the handler keeps failing on (error, attempts made), and moves
# the tracking position past it in the same transaction.
PoisonHandler = Callable[[Notification, BaseException, int], None]
POISON_ATTEMPTS = 3
POISON_RETRY_SECONDS = (0.05, 0.2)  # before the 2nd and the 3rd attempt
# The database's failures, not the event's: never a reason to park it.
TRANSIENT_ERRORS = (
    OperationalError, InterfaceError, psycopg.OperationalError,
    psycopg.InterfaceError, sqlite3.OperationalError, OSError,
)  # fmt: skip


def is_transient(error: BaseException) -> bool:
    return isinstance(error, TRANSIENT_ERRORS)


@dataclasses.dataclass(frozen=True)
class Failing:
    """The notification the runner is held at, and how many times it failed."""

    position: int
    originator_id: str
    originator_version: int
    topic: str
    attempts: int
    parking_failed: bool = False  # parked it could not be either: the runner is stuck


class _RetrySoonError(Exception):
    """A poison candidate failed; try it again after a short pause."""

    def __init__(self, delay: float) -> None:
        super().__init__(delay)
        self.delay = delay


class CatchUpRunner:
    """Feeds `handler([(notification_id, event), ...])` from `start_position()` on."""

    def __init__(  # noqa: PLR0913 - wiring, all by name
        self,
        *,
        name: str,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        topics: Sequence[str],
        start_position: Callable[[], int | None],
        handler: Handler,
        batch_size: int = 500,
        idle_seconds: float = 1.0,
        on_error: Callable[[str, BaseException], None] | None = None,
        on_skip: Callable[[int], None] | None = None,
        on_poison: PoisonHandler | None = None,
        on_advance: Callable[[int], None] | None = None,
    ) -> None:
        self.name = name
        self._recorder = recorder
        self._mapper = mapper
        self._topics = tuple(topics)
        self._topic_set = frozenset(topics)
        self._start_position = start_position
        self._handler = handler
        self._batch_size = batch_size
        self._idle_seconds = idle_seconds
        self._on_error = on_error
        # Told when the position moves past notifications that are not ours, so it can
        # be recorded: a reader in another process waits on the recorded position.
        self._on_skip = on_skip
        self._on_poison = on_poison
        # Told each new position once its transaction committed (it may tell readers
        # in other processes: service.read_models.position_notices).
        self._on_advance = on_advance
        self._failing: Failing | None = None
        self._wake = threading.Event()
        # The next round moves past events of other topics to the head (`wake`).
        self._look_past = True
        self._stop = threading.Event()
        self._progress = threading.Condition()
        # Coroutines waiting for a position (wait_for_async): answered on their loops.
        self._async_waiters = PositionWaiters()
        self._position = 0
        self._thread: threading.Thread | None = None
        self.last_error: BaseException | None = None

    @property
    def position(self) -> int:
        """Every notification up to here has been handled (or was not for us)."""
        return self._position

    @property
    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def failing(self) -> Failing | None:
        """The notification the runner is held at, while it fails on it."""
        return self._failing

    @property
    def stuck(self) -> Failing | None:
        """The notification it failed on every attempt at and could not park either."""
        failing = self._failing
        return failing if failing is not None and failing.parking_failed else None

    @property
    def state(self) -> str:
        """For health checks: "ok", "stopped", "stuck", or "failing: <the last error>"."""
        if not self.is_alive:
            return "stopped"
        if self.stuck is not None:
            return "stuck"
        return "ok" if self.last_error is None else f"failing: {self.last_error!r}"

    def start(self) -> None:
        self._position = self._start_position() or 0
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        """Run a round now, and past the log's head if it finds none of its events."""
        self._look_past = True  # before the wake: the round it starts must see it
        self._wake.set()

    def wake_for(self, topics: Collection[str]) -> None:
        """Wake if any of `topics` is one this runner follows.

        A save of only its own topics starts a round that reads them and stops: it
        need not ask for the head (three queries) if they were read already, as a
        round begun just before the save's wake often has. A save with other topics
        also moves the position past those. A save of other events only leaves it
        asleep: whoever waits for a position calls `wait_for`, which wakes it to pass
        over them, and so does the idle timeout.
        """
        if not self._topic_set:
            self.wake()
        elif self._topic_set.issuperset(topics):
            self._wake.set()
        elif not self._topic_set.isdisjoint(topics):
            self.wake()

    def wake_to_record(self, topics: Collection[str] | None) -> None:
        """Another process saved events of `topics` (None: unknown); its readers wait.

        Whatever the topics, the position must move past the save: a save of only
        this runner's topics is read by the round, any other needs the head.
        """
        if topics and self._topic_set and self._topic_set.issuperset(topics):
            self._wake.set()
        else:
            self.wake()

    def wait_for(self, position: int, timeout: float) -> bool:
        """Block until `position` is handled; False if `timeout` passed first.

        A runner stuck on an event it can neither apply nor park holds no reader: the
        read goes on at once, with the events before it (health says "stuck").
        """
        if self._position >= position:
            return True
        self.wake()
        deadline = time.monotonic() + timeout
        with self._progress:
            while self._position < position and self.stuck is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._progress.wait(remaining)
        return True

    async def wait_for_async(self, position: int, timeout: float) -> bool:  # noqa: ASYNC109
        """`wait_for` for a coroutine: its event loop runs on while the runner folds.

        Each advance wakes each waiting loop once, for all its coroutines there.
        """
        if self._position >= position:
            return True
        with self._progress:
            if self._position >= position or self.stuck is not None:
                return True
            waiter = self._async_waiters.add(position)
        self.wake()
        try:
            return await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            return False
        finally:
            with self._progress:
                self._async_waiters.discard(waiter)

    def _answer_async_waiters(self) -> None:
        """Under `_progress`: resolve the waiters now passed, or all if stuck."""
        stuck = self.stuck is not None
        self._async_waiters.answer(
            lambda _, position: stuck or position <= self._position
        )

    def run_once(self, *, look_past: bool = True) -> int:
        """Handle the next page; return how many notifications it held.

        With nothing of its own to read, it moves the position up to the log's head
        only if `look_past`.
        """
        page = self._select_page()
        if not page and not look_past:
            return 0
        if not page:
            # Skip notifications not for us, up to a head read *before* a second look:
            # anything of ours committed by then shows in that look.
            head = self._recorder.max_notification_id() or 0
            page = self._select_page()
            if not page:
                if head > self._position and self._on_skip is not None:
                    self._on_skip(head)
                self._advance(head)
                return 0
        if self._on_poison is None:
            self._handler(self._decoded(page))
        else:
            try:
                self._handler(self._decoded(page))
            except IntegrityError:
                raise
            except Exception as error:
                if is_transient(error):
                    raise
                return self._one_at_a_time(page)
        self._advance(page[-1].id)
        return len(page)

    def _decoded(self, page: Sequence[Notification]) -> list[tuple[int, Any]]:
        return [(n.id, self._mapper.to_domain_event(n)) for n in page]

    def _one_at_a_time(self, page: Sequence[Notification]) -> int:
        """After a page failed: each notification in a transaction of its own.

        The ones before the culprit are applied; the culprit is retried, then parked.
        """
        for notification in page:
            try:
                self._handler(self._decoded([notification]))
            except IntegrityError:
                raise
            except Exception as error:
                if is_transient(error):
                    raise
                self._poisoned(notification, error)
            self._set_failing(None)
            self._advance(notification.id)
        return len(page)

    def _poisoned(self, notification: Notification, error: Exception) -> None:
        """Count a failure of `notification`: raise to retry it, or park it."""
        previous = self._failing
        attempts = 1
        if previous is not None and previous.position == notification.id:
            attempts = previous.attempts + 1
        failing = Failing(
            notification.id,
            str(notification.originator_id),
            notification.originator_version,
            notification.topic,
            attempts,
        )
        self._set_failing(failing)
        if attempts < POISON_ATTEMPTS:
            delay = POISON_RETRY_SECONDS[min(attempts, len(POISON_RETRY_SECONDS)) - 1]
            raise _RetrySoonError(delay) from error
        if self._on_poison is None:
            raise error
        try:
            self._on_poison(notification, error, attempts)
        except IntegrityError:
            raise  # another process applied or parked it: not stuck
        except Exception:
            self._set_failing(dataclasses.replace(failing, parking_failed=True))
            raise

    def _set_failing(self, failing: Failing | None) -> None:
        with self._progress:
            self._failing = failing
            self._progress.notify_all()  # a reader stops waiting for a stuck runner
            self._answer_async_waiters()

    def _select_page(self) -> Sequence[Any]:
        return self._recorder.select_notifications(
            start=self._position,
            limit=self._batch_size,
            topics=self._topics,
            inclusive_of_start=False,
        )

    def _advance(self, position: int) -> None:
        with self._progress:
            moved = position > self._position
            self._position = max(self._position, position)
            self._progress.notify_all()
            self._answer_async_waiters()
        if moved and self._on_advance is not None:
            self._on_advance(self._position)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            look_past, self._look_past = self._look_past, False
            handled: int | None = None
            try:
                handled = self.run_once(look_past=look_past)
            except IntegrityError:
                # Another process's runner recorded this position first (expected when
                # processes share a database): its transaction did the work; resume after it.
                self._set_failing(None)
                self._advance(self._start_position() or 0)
                continue
            except _RetrySoonError as retry:
                self.last_error = retry.__cause__
                self._report(retry.__cause__ or retry)
                self._stop.wait(retry.delay)
                continue
            except Exception as error:  # noqa: BLE001 - keep running: report, back off
                self.last_error = error
                self._report(error)
                self._stop.wait(1.0)
                continue
            finally:
                # A look past asked for is done by the round that finds none of its
                # events; a round that found some, or failed, leaves it to the next.
                if look_past and handled != 0:
                    self._look_past = True
            self.last_error = None
            if not handled and not self._wake.wait(self._idle_seconds):
                self._look_past = True  # idle: a look past whatever was not told

    def _report(self, error: BaseException) -> None:
        if self._on_error is not None:
            self._on_error(self.name, error)
