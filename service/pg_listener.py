"""Wakes runners when another process saves events (PostgreSQL LISTEN/NOTIFY)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import psycopg
import structlog
from psycopg import sql

from service import pg_timeouts
from service.event_store import position_of, topics_of

if TYPE_CHECKING:
    from collections.abc import Callable, Container, Mapping, Sequence

log = structlog.get_logger("pg_listener")


class NotificationListener:
    """Every save NOTIFYs `<app>_events`; this LISTENs to it.

    `on_notify` gets the topics the save stored (`service.event_store`), or None
    when the NOTIFY names none (a save by eventsourcing's own recorder);
    `on_position` the save's last position, when the NOTIFY names it. `connected`
    says whether every save since `LISTEN` is heard; `on_connect` is called after
    each `LISTEN` (the saves while it was not connected went unheard), and
    `on_disconnect` when the connection is lost. `also` listens to more channels on
    the same connection, each handler getting its channel's payloads. A save NOTIFYd
    from one of `own`'s sessions (this process's application, which tells its
    listeners itself) is passed over.
    """

    def __init__(  # noqa: PLR0913 - the hooks are optional and named
        self,
        conninfo: str,
        channel: str,
        on_notify: Callable[[Sequence[str] | None], None],
        *,
        on_position: Callable[[int], None] | None = None,
        on_connect: Callable[[], None] | None = None,
        on_disconnect: Callable[[], None] | None = None,
        also: Mapping[str, Callable[[str], None]] | None = None,
        own: Container[int] = (),
    ) -> None:
        self._conninfo = conninfo
        self._channel = channel
        self._on_notify = on_notify
        self._on_position = on_position
        self._on_connect = on_connect
        self._on_disconnect = on_disconnect
        # Other channels on the same connection, each with its payloads' handler.
        self._also = dict(also or {})
        self._own = own
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="pg-listener", daemon=True
        )

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:  # started
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    pg_timeouts.with_timeouts(self._conninfo), autocommit=True
                ) as conn:
                    for channel in (self._channel, *self._also):
                        conn.execute(
                            sql.SQL("LISTEN {}").format(sql.Identifier(channel))
                        )
                    self._connected.set()
                    if self._on_connect is not None:
                        self._on_connect()
                    while not self._stop.is_set():
                        # A short timeout keeps stop() prompt; waking costs nothing.
                        for notify in conn.notifies(timeout=0.25, stop_after=1):
                            self._deliver(notify)
            except psycopg.Error as error:
                # The runners still poll; this only makes them prompt. Retry quietly.
                log.warning("pg_listener.disconnected", error=str(error))
                self._stop.wait(1.0)
            finally:
                if self._connected.is_set():
                    self._connected.clear()
                    if self._on_disconnect is not None:
                        self._on_disconnect()

    def _deliver(self, notify: psycopg.Notify) -> None:
        handler = self._also.get(notify.channel)
        if handler is not None:
            handler(notify.payload)
        elif notify.pid not in self._own:
            self._heard(notify.payload)

    def _heard(self, payload: str) -> None:
        position = position_of(payload)
        if position is not None and self._on_position is not None:
            self._on_position(position)
        self._on_notify(topics_of(payload))
