"""Folding catalog events into stored entity state (the aggregates' public attributes)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain.catalog.base import CatalogAggregate, public_state
from domain.catalog.registry import AGGREGATE_OF_EVENT, AGGREGATE_OF_KIND

if TYPE_CHECKING:
    from collections.abc import Iterable


@dataclass
class Entity:
    """One catalog entity as the read model keeps it."""

    id: str
    kind: str
    version: int
    state: dict[str, Any]


def fold(
    entities: dict[str, Entity], events: Iterable[CatalogAggregate.Event]
) -> set[str]:
    """Apply events to the entities in place; return the ids of those changed.

    Each event's own `apply` evolves a copy of the aggregate rebuilt from the stored
    state, so the read model and the aggregate share one definition of each event.
    """
    changed: set[str] = set()
    for event in events:
        entity = entities.get(event.originator_id)
        if isinstance(event, CatalogAggregate.Created):
            if entity is not None:
                continue  # already folded
            aggregate = event.mutate(None)
            kind = AGGREGATE_OF_EVENT[type(event)].KIND
            entity = Entity(event.originator_id, kind, event.originator_version, {})
            entities[entity.id] = entity
        else:
            if entity is None or event.originator_version <= entity.version:
                continue  # folded already, or of an entity never created
            aggregate = _revive(entity)
            event.apply(aggregate)
        entity.state = {"id": entity.id, **public_state(aggregate)}
        entity.version = event.originator_version
        changed.add(entity.id)
    return changed


def _revive(entity: Entity) -> Any:
    cls = AGGREGATE_OF_KIND[entity.kind]
    aggregate = cls.__new__(cls)
    aggregate.__dict__.update(copy.deepcopy(entity.state))
    return aggregate
