"""Keeps a running job's recorded lease fresh while its strategy works."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Self

import structlog

if TYPE_CHECKING:
    from types import TracebackType

    from domain.batch_jobs import BatchJob
    from service.application import Jobstream

log = structlog.get_logger("processor")


def utcnow() -> datetime:
    return datetime.now(UTC)


class LeaseKeeper:
    """A thread renewing `holder`'s lease every third of its length until exit.

    A renewal is one small event; three per lease length leave two missed renewals
    (a slow store, a pause) before the lease lapses and the job is taken over.
    """

    def __init__(
        self, app: Jobstream, job_id: str, holder: str, seconds: float
    ) -> None:
        self._app = app
        self._job_id = job_id
        self._holder = holder
        self._seconds = seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"lease-{job_id}", daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._seconds / 3):
            try:
                kept = self._renew()
            except Exception as error:  # noqa: BLE001 - the next beat tries again
                log.warning(
                    "lease.renew_failed", job_id=self._job_id, error=repr(error)
                )
                continue
            if not kept:
                return  # finished, canceled or taken over: nothing left to renew

    def _renew(self) -> bool:
        kept = False

        def renew(job: BatchJob) -> None:
            nonlocal kept
            kept = job.renew_lease(self._holder, utcnow(), self._seconds)

        self._app.change_batch_job(self._job_id, renew)
        return kept
