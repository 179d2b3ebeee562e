"""Parked events: what a read model could not apply, kept beside its tracking position.

A projection that fails on one event again and again (a poison message) parks it: it
records the event in its view's parked table and moves its tracking position past it,
in one transaction, so the events after it go on being applied and every reader stops
waiting for it. `jobstream projections parked` lists what is parked; a rebuild of the
read model re-applies every event and clears its list.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from projections.nul import clean_text

if TYPE_CHECKING:
    from collections.abc import Collection

    from eventsourcing.persistence import Tracking

# An error's text is kept for operators, not unbounded (a message can quote a payload).
MAX_ERROR_CHARS = 2000
COLUMNS = (
    "position", "read_model", "originator_id", "originator_version", "topic",
    "error", "attempts", "parked_at",
)  # fmt: skip


@dataclass(frozen=True)
class ParkedEvent:
    """One event a read model skipped, and why (`error`: the exception's type and text)."""

    read_model: str
    position: int  # the event's notification id
    originator_id: str
    originator_version: int
    topic: str
    error: str
    attempts: int
    parked_at: str  # ISO 8601, UTC

    def public(self) -> dict[str, object]:
        """Where it is, without the error text (for unauthenticated health answers)."""
        return {
            "position": self.position,
            "originator_id": self.originator_id,
            "originator_version": self.originator_version,
            "topic": self.topic,
            "attempts": self.attempts,
            "parked_at": self.parked_at,
        }


def now() -> str:
    """A parked event's `parked_at`: ISO 8601 in UTC, with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def error_text(error: BaseException) -> str:
    """`Type: message`, cut to MAX_ERROR_CHARS, fit for any backend's text column."""
    text = clean_text(f"{type(error).__name__}: {error}")
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def parked_ddl(table: str) -> str:
    """One DDL for SQLite and PostgreSQL; at most one row per notification."""
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (position BIGINT PRIMARY KEY, "
        "read_model TEXT NOT NULL, originator_id TEXT NOT NULL, "
        "originator_version BIGINT NOT NULL, topic TEXT NOT NULL, error TEXT NOT NULL, "
        "attempts INTEGER NOT NULL, parked_at TEXT NOT NULL)"
    )


class Parking(ABC):
    """A SQL view's parked table: park (with tracking), list, clear."""

    placeholder: str
    parked_table: str

    @abstractmethod
    def _transaction(self, *, commit: bool) -> Any: ...

    @abstractmethod
    def track(self, curs: Any, tracking: Tracking) -> None:
        """Record the tracking position in the caller's transaction."""

    def park(self, event: ParkedEvent, tracking: Tracking) -> None:
        """Record `event` and move tracking to `tracking`, in one transaction.

        Raises IntegrityError if the position is recorded already (another process
        parked or applied it first), like any tracked write.
        """
        marks = ", ".join([self.placeholder] * len(COLUMNS))
        updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
        # Parked again when the model is projected anew from an earlier position (its
        # tables dropped, or rebuilt for new columns): the latest attempt is kept.
        insert = (
            f"INSERT INTO {self.parked_table} ({', '.join(COLUMNS)}) VALUES ({marks}) "  # noqa: S608
            f"ON CONFLICT (position) DO UPDATE SET {updates}"
        )
        row = [
            event.position, clean_text(event.read_model),
            clean_text(event.originator_id), event.originator_version,
            clean_text(event.topic), clean_text(event.error), event.attempts,
            event.parked_at,
        ]  # fmt: skip
        with self._transaction(commit=True) as curs:
            self.track(curs, tracking)
            curs.execute(insert, row)

    def parked_events(self, limit: int | None = None) -> list[ParkedEvent]:
        """Parked events, in notification order (the first `limit` of them)."""
        select = (
            f"SELECT {', '.join(COLUMNS)} FROM {self.parked_table} ORDER BY position"  # noqa: S608
        )
        params: list[object] = []
        if limit is not None:
            select += f" LIMIT {self.placeholder}"
            params.append(limit)
        with self._transaction(commit=False) as curs:
            curs.execute(select, params)
            return [
                ParkedEvent(**{c: row[c] for c in COLUMNS}) for row in curs.fetchall()
            ]

    def count_parked(self) -> int:
        with self._transaction(commit=False) as curs:
            curs.execute(f"SELECT COUNT(*) AS n FROM {self.parked_table}")  # noqa: S608
            return int(curs.fetchone()["n"])

    def clear_parked(self, up_to: int, keep: Collection[int] = ()) -> None:
        """Forget events parked at or before `up_to`, but those in `keep`.

        After a rebuild up to `up_to`: it applied them again (`keep`: those it parked).
        """
        delete = f"DELETE FROM {self.parked_table} WHERE position <= {self.placeholder}"  # noqa: S608
        params: list[object] = [up_to]
        if keep:
            delete += (
                f" AND position NOT IN ({', '.join([self.placeholder] * len(keep))})"
            )
            params.extend(keep)
        with self._transaction(commit=True) as curs:
            curs.execute(delete, params)
