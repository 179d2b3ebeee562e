"""The event log's head as a read sees it: every event stored when the request began.

Before a read, the host waits until the read model has folded up to the head. Asking
the store for it (`max(notification_id)`) is a query per read, most of a GET's time.
`KnownHead` keeps it in memory instead, learning each save's last position: this
process's own saves (`Jobstream.saved`, told at once), and on PostgreSQL the other
processes' saves (their NOTIFY names it). It asks the store only when it cannot know:
before it learnt anything, after a save that did not say its position, and whenever
`complete()` says saves may go unheard (no LISTEN connection, or writers it is not
told of, as SQLite with writers in other processes: then use `QueriedHead`).

`known()` is the head without asking: what the event loop may use (the hot lane on
PostgreSQL), None whenever a call would query.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


class Head(ABC):
    @abstractmethod
    def __call__(self) -> int:
        """The position of the last event stored (0: none)."""

    def saved(self, position: int | None) -> None:  # noqa: B027 - nothing to learn by default
        """A save ended at `position` (None: at a position not known)."""

    def known(self) -> int | None:
        """The head if known without I/O; None if only a query would tell."""
        return None


class QueriedHead(Head):
    """Asks the store each time."""

    def __init__(self, query: Callable[[], int]) -> None:
        self._query = query

    def __call__(self) -> int:
        return self._query()


class KnownHead(Head):
    """Learns every save's position; asks the store only when it cannot know."""

    def __init__(
        self, query: Callable[[], int], complete: Callable[[], bool] = lambda: True
    ) -> None:
        self._query = query
        self._complete = complete
        self._lock = threading.Lock()
        self._head = 0
        self._known = False
        # Counts the saves of unknown position, so a query that began before one of
        # them does not make the head known again.
        self._unknown_saves = 0

    def saved(self, position: int | None) -> None:
        with self._lock:
            if position is None:
                self._known = False
                self._unknown_saves += 1
            else:
                self._head = max(self._head, position)

    def known(self) -> int | None:
        with self._lock:
            return self._head if self._known and self._complete() else None

    def __call__(self) -> int:
        with self._lock:
            if self._known and self._complete():
                return self._head
            unknown_saves = self._unknown_saves
        queried = self._query()
        with self._lock:
            self._head = max(self._head, queried)
            if unknown_saves == self._unknown_saves:
                self._known = True
            return self._head
