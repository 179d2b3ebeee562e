"""The worker loop: take work from a source within free slots, run it, settle it.

One loop for every source (event store, JetStream, memory). It owns what used to be
decided twice: per-type limits (a type at its limit gives the delivery back for
LIMITED_DELAY), the delay before a failed delivery comes back, lease renewals and
in-progress heartbeats (one keeper for all running jobs, every third of a lease).
"""

from __future__ import annotations

import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import structlog

from domain.errors import BatchJobNotFoundError
from service.strategies.limits import TypeLimits

if TYPE_CHECKING:
    from collections.abc import Collection

    from service.engine.steps import JobSteps
    from service.engine.work import Work, WorkSource

log = structlog.get_logger("processor")

MAX_FETCH = 16  # deliveries asked for at once, at most
FETCH_WAIT = 1.0  # seconds a fetch waits for work before the loop looks around
# A type at its limit here: the delivery goes back, for this or another engine.
LIMITED_DELAY = 1.0
# A delivery whose handling raised (the store is away): back after this, doubled
# per delivery up to 2**6 times.
ERROR_DELAY = 1.0


def error_delay(attempt: int) -> float:
    return ERROR_DELAY * 2.0 ** min(attempt - 1, 6)


class JobEngine:
    """Runs work from `source` on `slots` threads of its own."""

    def __init__(
        self,
        *,
        steps: JobSteps,
        source: WorkSource,
        limits: TypeLimits | None = None,
        slots: int = 4,
        name: str = "processor",
    ) -> None:
        self.steps = steps
        self.source = source
        self.name = name
        self._limits = limits or TypeLimits({})
        self._slots = slots
        self._free = threading.Semaphore(slots)
        self._running: dict[int, Work] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool: ThreadPoolExecutor | None = None
        self.last_error: BaseException | None = None

    # -- one delivery ------------------------------------------------------------

    def handle(self, work: Work) -> str:
        """Run one delivery and settle it; return how: "ack" or "nak"."""
        with structlog.contextvars.bound_contextvars(
            job_id=work.job_id, attempt=work.attempt
        ):
            delay = self._run(work)
            if delay is None:
                work.ack()
                return "ack"
            log.info("worker.redeliver_later", delay_s=round(delay, 3))
            work.nak(delay)
            return "nak"

    def _run(self, work: Work) -> float | None:
        """The seconds after which the work is to come back, or None: done."""
        batch_type: str | None = None
        try:
            if self.steps.settled(work.step, work.job_id):
                return None  # e.g. batch.confirmed of a job run on: nothing to read
            # A job's type never changes: the job its batch.created made (where the
            # delivery carries it) tells it without a read; else the job is read
            # once, for the limit and for the step (`current`).
            created, current = work.created, None
            if self._limits.active:  # no type limited: no need to know the type
                known = created
                if known is None:
                    known = current = self.steps.read(work.job_id)
                batch_type = known.type
                if not self._limits.try_acquire(batch_type):
                    return LIMITED_DELAY
            with self._lock:
                self._running[id(work)] = work
            try:
                return self.steps.run(
                    work.step, work.job_id, work.trace_parent, created, current
                )
            finally:
                with self._lock:
                    self._running.pop(id(work), None)
                if batch_type is not None:
                    self._limits.release(batch_type)
        except BatchJobNotFoundError:
            # Another deployment's event on a shared stream: not ours, ever.
            log.warning("worker.unknown_job")
            return None
        except Exception as error:  # noqa: BLE001 - e.g. the store is down: try later
            delay = error_delay(work.attempt)
            log.warning("worker.retry_later", error=repr(error), delay_s=delay)
            return delay

    # -- driven by hand (tests) or by threads ------------------------------------

    def run_pending(self) -> int:
        """Handle, in this thread, what the source has ready now; return how many."""
        handled = 0
        while works := self.source.fetch(self._slots, 0.0):
            for work in works:
                self.handle(work)
                handled += 1
        return handled

    def tick(self) -> None:
        """Keep running work ours: renew its leases, tell the source it goes on."""
        with self._lock:
            running = list(self._running.values())
        # Heartbeats first: they are cheap, and a slow store must not delay them.
        for work in running:
            with contextlib.suppress(Exception):  # a missed beat only shortens it
                work.in_progress()
        self.steps.renew_leases(work.job_id for work in running)

    def start(self) -> None:
        self._pool = ThreadPoolExecutor(self._slots, thread_name_prefix="job")
        for target, name in ((self._dispatch, self.name), (self._keep, "lease-keeper")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking work, finish what runs; the rest is delivered again later."""
        self._stop.set()
        self.wake()
        for thread in self._threads:
            thread.join(timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self.source.close()

    @property
    def in_flight(self) -> int:
        """Deliveries running now (the worker registry's and /metrics' figure)."""
        return len(self._running)

    def has_room(self) -> bool:
        """Whether a quarter of the slots (at least one) stay free beside those running.

        Room for one of the running deliveries to run its job on (JobSteps.run_on_while).
        """
        return len(self._running) + max(1, self._slots // 4) <= self._slots

    @property
    def is_alive(self) -> bool:
        return bool(self._threads) and all(t.is_alive() for t in self._threads)

    @property
    def state(self) -> str:
        """For health checks: "ok", "stopped", or "failing: <the last error>"."""
        if not self.is_alive:
            return "stopped"
        return "ok" if self.last_error is None else f"failing: {self.last_error!r}"

    def wake(self) -> None:
        wake = getattr(self.source, "wake", None)
        if wake is not None:
            wake()

    def wake_for(self, topics: Collection[str]) -> None:
        wake_for = getattr(self.source, "wake_for", None)
        if wake_for is not None:
            wake_for(topics)

    def _dispatch(self) -> None:
        while not self._stop.is_set():
            free = self._take_free_slots()
            if not free:
                continue
            try:
                works = self.source.fetch(free, FETCH_WAIT)
                self.last_error = None
            except Exception as error:  # noqa: BLE001 - the loop must never die
                log.warning("worker.fetch_failed", error=repr(error))
                self.last_error = error
                works = []
                self._stop.wait(0.2)
            if self._stop.is_set():
                for work in works:  # stopping: what came goes back at once
                    with contextlib.suppress(Exception):
                        work.nak(0.0)
                works = []
            for _ in range(free - len(works)):
                self._free.release()
            assert self._pool is not None  # noqa: S101 - set by start()
            for work in works:
                self._pool.submit(self._in_slot, work)

    def _take_free_slots(self) -> int:
        if not self._free.acquire(timeout=0.5):
            return 0
        free = 1
        while free < MAX_FETCH and self._free.acquire(blocking=False):
            free += 1
        return free

    def _in_slot(self, work: Work) -> None:
        try:
            self.handle(work)
        except Exception:  # settling failed (the broker is away): it comes back
            log.exception("processor.settle_failed", job_id=work.job_id)
        finally:
            self._free.release()

    def _keep(self) -> None:
        every = self.steps.lease_seconds / 3
        next_at = time.monotonic() + every
        while not self._stop.wait(max(0.0, next_at - time.monotonic())):
            next_at += every
            try:
                self.tick()
            except Exception as error:  # noqa: BLE001 - the next round tries again
                log.warning("lease.keeper_failed", error=repr(error))
