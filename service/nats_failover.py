"""Which NATS node a connection tries next once it lost one: the node it lost last.

nats-py shuffles its list of servers before it reconnects and tries them in that
order, each for up to the connect timeout. A node that went silent (cut off, not
closed) is still on the list: drawn first, it costs a whole connect timeout before a
live node is tried, and a process took 8 s instead of 6 to leave it. `FailoverOrder`
tries the other nodes first, in the shuffled order, then the lost one; after a round
in which every node failed it pauses, so a cluster that is down is not hammered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nats.aio.client import Server


class FailoverOrder:
    """nats-py's `reconnect_to_server_handler`, told where the connection runs."""

    def __init__(self, round_pause: float) -> None:
        self._round_pause = round_pause
        self._current: str | None = None  # host:port of the node the client is on
        self._lost: str | None = None
        self._attempts = 0  # since the last loss

    def connected(self, netloc: str | None) -> None:
        """The connection (again) runs on the node at `netloc` (host:port)."""
        self._current = netloc
        self._attempts = 0

    def disconnected(self) -> None:
        """The connection lost its node: the next attempts go elsewhere first."""
        self._lost = self._current
        self._attempts = 0

    def __call__(
        self, servers: list[Server], _info: dict[str, Any]
    ) -> tuple[Server | None, float]:
        """The server to try next and how long to wait before trying it."""
        if not servers:
            return None, 0.0
        # A stable sort keeps nats-py's shuffle among the others.
        ordered = sorted(servers, key=lambda server: server.uri.netloc == self._lost)
        turn = self._attempts % len(ordered)
        pause = self._round_pause if self._attempts and turn == 0 else 0.0
        self._attempts += 1
        return ordered[turn], pause
