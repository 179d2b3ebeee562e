"""The stuck-job reaper: no job waits forever on a worker that is gone.

A worker that stops (killed, partitioned, out of memory) leaves its job's lease to
lapse; JetStream then redelivers the job and another worker takes a new lease. If none
does within `stuck_after` seconds of the lapse (no worker runs that type, the message
was lost, every attempt is used up), the reaper fails the job with a message saying so.
Several reapers may run (one per worker): the rule is re-checked on the job itself and
the failure saved with optimistic concurrency, so a job is failed once.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog

from service.engine.clock import SYSTEM_CLOCK

if TYPE_CHECKING:
    from datetime import datetime

    from domain.batch_jobs import BatchJob
    from projections.batch_jobs.view import BatchJobsView
    from service.application import Jobstream
    from service.engine.clock import Clock

log = structlog.get_logger("reaper")
PAGE = 100  # jobs looked at per scan, oldest lapse first


def scan_interval(stuck_after: float) -> float:
    """Often enough that a job is failed soon after its bound, at most every 30 s."""
    return min(30.0, max(0.5, stuck_after / 10))


class StuckJobReaper:
    def __init__(
        self,
        app: Jobstream,
        view: BatchJobsView,
        *,
        stuck_after: float,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._app = app
        self._clock = clock
        self._view = view
        self._stuck_after = stuck_after
        self._actor = f"reaper:{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def reap(self, now: datetime | None = None) -> list[str]:
        """Fail every job abandoned at `now`; return their ids."""
        now = now or self._clock.now()
        cutoff = now - timedelta(seconds=self._stuck_after)
        return [
            job_id
            for job_id in self._view.expired_leases(cutoff, PAGE)
            if self._fail_if_abandoned(job_id, now)
        ]

    def _fail_if_abandoned(self, job_id: str, now: datetime) -> bool:
        failed = False

        def fail(job: BatchJob) -> None:
            nonlocal failed
            failed = job.fail_if_abandoned(self._actor, now, self._stuck_after)

        try:
            self._app.change_batch_job(job_id, fail)
        except Exception as error:  # noqa: BLE001 - the next scan tries again
            log.warning("reaper.error", job_id=job_id, error=repr(error))
            return False
        if failed:
            log.warning("reaper.failed_job", job_id=job_id)
        return failed

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="reaper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(scan_interval(self._stuck_after)):
            try:
                self.reap()
            except Exception as error:  # noqa: BLE001 - e.g. the database restarts
                log.warning("reaper.scan_failed", error=repr(error))
