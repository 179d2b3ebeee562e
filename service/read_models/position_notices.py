"""The projecting process tells other processes each read model's new position.

After each commit of a read model's runner (a batch folded, events passed over,
one parked), `PositionNotices.tell` NOTIFYs `<model>:<position>` on
`POSITIONS_CHANNEL`; API processes listen (remote_positions.NotifiedRemotePositions)
and wake the reads that wait for it. One autocommit connection of its own, so a
notice never waits for a pool; a failure is logged and the connection opened again
on the next notice: the listeners' fallback poll covers a notice lost.
"""

from __future__ import annotations

import threading

import psycopg
import structlog

from service.read_models.remote_positions import POSITIONS_CHANNEL, notice

log = structlog.get_logger("read_models")


class PositionNotices:
    def __init__(self, conninfo: str, channel: str = POSITIONS_CHANNEL) -> None:
        self._conninfo = conninfo
        self._channel = channel
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._lock = threading.Lock()

    def tell(self, name: str, position: int) -> None:
        """NOTIFY `name`'s new position (after the commit that recorded it)."""
        with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = psycopg.connect(self._conninfo, autocommit=True)
                self._conn.execute(
                    "SELECT pg_notify(%s, %s)", (self._channel, notice(name, position))
                )
            except psycopg.Error as error:
                log.warning(
                    "read_models.notice_failed", read_model=name, position=position,
                    error=str(error),
                )  # fmt: skip
                self._close()

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
