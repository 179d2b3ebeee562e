"""Catch-up runner: pulls notifications in order, hands batches to a handler.

eventsourcing 9.5's ProjectionRunner needs recorder subscriptions, which SQLite lacks,
and commits once per event. This runner pulls (works on every backend), hands whole
batches to its handler (one transaction per batch), and wakes on demand, so a write in
this process, or a PostgreSQL NOTIFY from another, is seen within milliseconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Sequence
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, IntegrityError, Mapper

# The handler gets (notification id, domain event) pairs, in notification order.
Handler = Callable[[Sequence[tuple[int, Any]]], None]


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
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._progress = threading.Condition()
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
    def state(self) -> str:
        """For health checks: "ok", "stopped", or "failing: <the last error>"."""
        if not self.is_alive:
            return "stopped"
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
        self._wake.set()

    def wake_for(self, topics: Collection[str]) -> None:
        """Wake if any of `topics` is one this runner follows.

        A save of other events leaves it asleep: whoever waits for a position calls
        `wait_for`, which wakes it to pass over them, and so does the idle timeout.
        """
        if not self._topic_set or not self._topic_set.isdisjoint(topics):
            self._wake.set()

    def wait_for(self, position: int, timeout: float) -> bool:
        """Block until `position` is handled; False if `timeout` passed first."""
        if self._position >= position:
            return True
        self.wake()
        deadline = time.monotonic() + timeout
        with self._progress:
            while self._position < position:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._progress.wait(remaining)
        return True

    def run_once(self) -> int:
        """Handle the next page; return how many notifications it held."""
        page = self._select_page()
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
        self._handler([(n.id, self._mapper.to_domain_event(n)) for n in page])
        self._advance(page[-1].id)
        return len(page)

    def _select_page(self) -> Sequence[Any]:
        return self._recorder.select_notifications(
            start=self._position,
            limit=self._batch_size,
            topics=self._topics,
            inclusive_of_start=False,
        )

    def _advance(self, position: int) -> None:
        with self._progress:
            self._position = max(self._position, position)
            self._progress.notify_all()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                handled = self.run_once()
            except IntegrityError:
                # Another process's runner recorded this position first (expected when
                # processes share a database): its transaction did the work; resume after it.
                self._position = max(self._position, self._start_position() or 0)
                continue
            except Exception as error:  # noqa: BLE001 - keep running: report, back off
                self.last_error = error
                self._report(error)
                self._stop.wait(1.0)
                continue
            self.last_error = None
            if not handled:
                self._wake.wait(self._idle_seconds)

    def _report(self, error: BaseException) -> None:
        if self._on_error is not None:
            self._on_error(self.name, error)
