"""The projecting process tells other processes each read model's new position.

After each commit of a read model's runner (a batch folded, events passed over,
one parked), other processes hear `<model>:<position>` on `POSITIONS_CHANNEL`; API
processes listen (remote_positions.NotifiedRemotePositions) and wake the reads that
wait for it. A view that records its position in its own transaction sends the
NOTIFY there (`in_transaction`, the view's `on_tracked`): PostgreSQL delivers it at
that commit, and the round needs no transaction more. Any other advance (events of
other topics passed over) is told after it (`tell`), on a connection borrowed from
the view's own pool, so a process holds no connection more for it. A failure there
is logged, not raised: the runner goes on, and the listeners' fallback poll covers
the notice lost.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import structlog

from service.read_models.remote_positions import POSITIONS_CHANNEL, notice

if TYPE_CHECKING:
    from collections.abc import Callable

    from eventsourcing.postgres import PostgresDatastore

log = structlog.get_logger("read_models")


class PositionNotices:
    def __init__(
        self, datastore: PostgresDatastore, channel: str = POSITIONS_CHANNEL
    ) -> None:
        self._datastore = datastore
        self._channel = channel
        self._lock = threading.Lock()
        # Per read model, the last position sent in the transaction recording it.
        self._sent: dict[str, int] = {}

    def in_transaction(self, name: str) -> Callable[[Any, int], None]:
        """The view's `on_tracked`: NOTIFY in the cursor's transaction that records."""

        def send(curs: Any, position: int) -> None:
            curs.execute(
                "SELECT pg_notify(%s, %s)", (self._channel, notice(name, position))
            )
            with self._lock:
                # Rolled back instead, the runner's retry of the round sends it again.
                self._sent[name] = max(self._sent.get(name, 0), position)

        return send

    def tell(self, name: str, position: int) -> None:
        """NOTIFY `name`'s new position (after the commit that recorded it).

        Nothing to do if the transaction that recorded it sent it already.
        """
        with self._lock:
            if self._sent.get(name, 0) >= position:
                return
        try:
            with self._datastore.transaction(commit=True) as curs:
                curs.execute(
                    "SELECT pg_notify(%s, %s)", (self._channel, notice(name, position))
                )
        except Exception as error:  # noqa: BLE001 - a lost notice is covered by polls
            log.warning(
                "read_models.notice_failed", read_model=name, position=position,
                error=str(error),
            )  # fmt: skip
