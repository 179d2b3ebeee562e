"""Event bases for aggregates with string ids (`batch_<ULID>`, `usr_<ULID>`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from eventsourcing.domain import CanInitAggregate, CanMutateAggregate


# eventsourcing's DomainEvent insists on UUID ids; Medusa's ids are strings, so the
# events are plain frozen dataclasses over CanMutateAggregate[str].
@dataclass(frozen=True)
class Event(CanMutateAggregate[str]):
    """Every event names its cause (`actor`: a user id, or a worker) and its time."""

    NAME: ClassVar[str] = ""
    originator_id: str
    originator_version: int
    timestamp: datetime
    actor: str


@dataclass(frozen=True)
class Created(Event, CanInitAggregate[str]):
    originator_topic: str
