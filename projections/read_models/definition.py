"""A read model, defined once: its name, projection, topics and a view per backend.

A host (service.read_models.host) builds every read model from its definition the
same way: the view for the configured backend, the projection that folds events
into it, a catch-up runner following its topics, waits, health, rebuild and verify.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from eventsourcing.persistence import TrackingRecorder

# Where a view keeps its rows: a SQLite file, PostgreSQL, or this process's memory.
Backend = Literal["sqlite", "postgres", "memory"]
# Folds one batch of (notification id, event) pairs and records the last position.
Projection = Callable[[Sequence[tuple[int, Any]]], None]


@dataclass(frozen=True)
class ReadModelDefinition:
    """What makes one read model; hosts and tools read nothing else about it."""

    # Lowercase, no underscores: it names the tracking table and the env prefix.
    name: str
    # Builds the projection over a view: (view, upstream application name).
    projection: Callable[[Any, str], Projection]
    # The event topics it follows (filtered in SQL by its runner and its rebuild).
    topics: tuple[str, ...]
    # The class its events share: a rebuild folds those and passes over the others.
    event_type: type[object]
    # Its view class on each backend it supports.
    views: Mapping[Backend, type[TrackingRecorder]]
    # The /health key of its view's probe, and the prefix of its /health/details
    # position and lag (kept as they were before read models were one capability).
    health_check: str
    details_prefix: str

    def view_class(self, backend: Backend) -> type[TrackingRecorder]:
        try:
            return self.views[backend]
        except KeyError:
            raise ValueError(
                f"the {self.name} read model has no {backend} view "
                f"(it has: {', '.join(self.views)})"
            ) from None

    @property
    def runner_name(self) -> str:
        """Its catch-up runner's name, also its /health key where it runs."""
        return f"projection.{self.name}"
