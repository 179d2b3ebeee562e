"""The base of every catalog aggregate: JSON-only state, stamped by its events.

A catalog aggregate keeps only JSON values in its public attributes (times are ISO
strings), and its events set them in `apply` alone. So the read model folds the same
events into a stored copy of that state (`projections.catalog.state`): the aggregate
and the read model share one definition of each event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from eventsourcing.domain import BaseAggregate

from domain import aggregates, ids

JsonObject = dict[str, Any]


def iso(moment: datetime) -> str:
    """Medusa's JSON dates: UTC with milliseconds and a `Z`."""
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def stamped(item: JsonObject, moment: str) -> JsonObject:
    """`item` with `created_at` kept (or set) and `updated_at` set to `moment`."""
    return {
        **item,
        "created_at": item.get("created_at") or moment,
        "updated_at": moment,
    }


def public_state(aggregate: object) -> JsonObject:
    """The attributes the events set: what the read model stores."""
    return {k: v for k, v in vars(aggregate).items() if not k.startswith("_")}


class CatalogAggregate(BaseAggregate[str]):
    """Subclasses set KIND (the read model's row kind) and PREFIX (Medusa's id prefix)."""

    KIND: ClassVar[str] = ""
    PREFIX: ClassVar[str] = ""

    @dataclass(frozen=True)
    class Event(aggregates.Event):
        def apply(self, aggregate: Any) -> None:
            self.change(aggregate)
            aggregate.updated_at = iso(self.timestamp)

        def change(self, aggregate: Any) -> None:
            """Set the state this event records (subclasses)."""

    @dataclass(frozen=True)
    class Created(Event, aggregates.Created):
        def apply(self, aggregate: Any) -> None:
            aggregate.created_at = aggregate.updated_at = iso(self.timestamp)
            aggregate.deleted_at = None
            aggregate.created_actor = self.actor
            self.change(aggregate)

    def __init__(self) -> None:
        """State comes from the Created event's `apply`, like every later change."""

    @classmethod
    def new_id(cls) -> str:
        return ids.new_id(cls.PREFIX)

    def unique_keys(self) -> set[str]:
        """Claim keys (`domain.catalog.claims`) this entity holds while it lives."""
        return set()

    def references(self) -> set[str]:
        """Ids of other catalog entities that this one's document embeds."""
        return set()
