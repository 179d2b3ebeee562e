"""The projecting process tells other processes each read model's new position.

After each commit of a read model's runner (a batch folded, events passed over,
one parked), `PositionNotices.tell` NOTIFYs `<model>:<position>` on
`POSITIONS_CHANNEL`; API processes listen (remote_positions.NotifiedRemotePositions)
and wake the reads that wait for it. It borrows a connection of the view's own pool
(one already open), so a process holds no connection more for it. A failure is
logged, not raised: the runner goes on, and the listeners' fallback poll covers the
notice lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from service.read_models.remote_positions import POSITIONS_CHANNEL, notice

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore

log = structlog.get_logger("read_models")


class PositionNotices:
    def __init__(
        self, datastore: PostgresDatastore, channel: str = POSITIONS_CHANNEL
    ) -> None:
        self._datastore = datastore
        self._channel = channel

    def tell(self, name: str, position: int) -> None:
        """NOTIFY `name`'s new position (after the commit that recorded it)."""
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
