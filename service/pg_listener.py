"""Wakes runners when another process saves events (PostgreSQL LISTEN/NOTIFY)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import psycopg
import structlog
from psycopg import sql

from service import pg_timeouts
from service.event_store import topics_of

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

log = structlog.get_logger("pg_listener")


class NotificationListener:
    """Every save NOTIFYs `<app>_events`; this LISTENs to it.

    `on_notify` gets the topics the save stored (`service.event_store`), or None
    when the NOTIFY names none (a save by eventsourcing's own recorder).
    """

    def __init__(
        self,
        conninfo: str,
        channel: str,
        on_notify: Callable[[Sequence[str] | None], None],
    ) -> None:
        self._conninfo = conninfo
        self._channel = channel
        self._on_notify = on_notify
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="pg-listener", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    pg_timeouts.with_timeouts(self._conninfo), autocommit=True
                ) as conn:
                    conn.execute(
                        sql.SQL("LISTEN {}").format(sql.Identifier(self._channel))
                    )
                    while not self._stop.is_set():
                        # A short timeout keeps stop() prompt; waking costs nothing.
                        for notify in conn.notifies(timeout=0.25, stop_after=1):
                            self._on_notify(topics_of(notify.payload))
            except psycopg.Error as error:
                # The runners still poll; this only makes them prompt. Retry quietly.
                log.warning("pg_listener.disconnected", error=str(error))
                self._stop.wait(1.0)
