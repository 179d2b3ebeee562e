"""A job engine's heartbeat: its row in the worker registry, written every few seconds."""

from __future__ import annotations

import os
import socket
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog

from service.worker_registry import WorkerEntry

if TYPE_CHECKING:
    from collections.abc import Callable

    from service.worker_registry import WorkerRegistry

log = structlog.get_logger("processor")

BEAT_SECONDS = 5.0
# A worker whose last beat is older than this is shown as not alive (three missed).
ALIVE_SECONDS = 3 * BEAT_SECONDS


class Heartbeat:
    """Writes `worker_id`'s row with its jobs in hand, on a thread of its own."""

    def __init__(
        self,
        registry: WorkerRegistry,
        worker_id: str,
        in_flight: Callable[[], int],
        every: float = BEAT_SECONDS,
    ) -> None:
        self._registry = registry
        self.worker_id = worker_id
        self._in_flight = in_flight
        self._every = every
        self._started_at = datetime.now(UTC)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> None:
        self._registry.beat(
            WorkerEntry(
                id=self.worker_id,
                host=socket.gethostname(),
                pid=os.getpid(),
                started_at=self._started_at,
                last_seen=datetime.now(UTC),
                in_flight=self._in_flight(),
            )
        )

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name="worker-heartbeat", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop beating and remove the row: a worker that stops is no longer one."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self._every + 5.0)
        try:
            self._registry.remove(self.worker_id)
        except Exception as error:  # noqa: BLE001 - the row ages out on its own
            log.warning("worker.heartbeat_remove_failed", error=repr(error))

    def _run(self) -> None:
        while True:
            try:
                self.beat()
            except Exception as error:  # noqa: BLE001 - the store is away: next beat
                log.warning("worker.heartbeat_failed", error=repr(error))
            if self._stop.wait(self._every):
                return
