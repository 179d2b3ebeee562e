"""Routes catalog events to the catalog view, a batch at a time."""

from __future__ import annotations

from collections.abc import Sequence

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from domain.catalog.base import CatalogAggregate
from domain.catalog.registry import EVENT_CLASSES
from projections.catalog.view import CatalogView


class CatalogProjection:
    # Lowercase, no underscores: it names the tracking table and the env prefix.
    name = "catalog"
    topics = tuple(get_topic(cls) for cls in EVENT_CLASSES)

    def __init__(self, view: CatalogView, upstream: str) -> None:
        self.view = view
        self.upstream = upstream  # the application name tracking positions refer to

    def __call__(self, batch: Sequence[tuple[int, object]]) -> None:
        """Fold one batch and record its last position, in one transaction."""
        events = [e for _, e in batch if isinstance(e, CatalogAggregate.Event)]
        self.view.apply_events(events, Tracking(self.upstream, batch[-1][0]))
