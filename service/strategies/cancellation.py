"""Cancels seen on the event stream, for running strategies to check between pages."""

from __future__ import annotations

import threading

# Cancels of jobs that never ran here are never forgotten by a run: keep the newest.
REMEMBERED = 10_000


class CancelSignals:
    """Job ids whose batch.canceled event has been seen; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._canceled: dict[str, None] = {}  # insertion-ordered: the oldest go first

    def cancel(self, job_id: str) -> None:
        with self._lock:
            self._canceled[job_id] = None
            if len(self._canceled) > REMEMBERED:
                del self._canceled[next(iter(self._canceled))]

    def is_canceled(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._canceled

    def forget(self, job_id: str) -> None:
        """The job's work is over: its signal is no longer needed."""
        with self._lock:
            self._canceled.pop(job_id, None)
