"""What the event-history endpoints use: an aggregate's stored events."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from service.audit import history

if TYPE_CHECKING:
    from domain import aggregates
    from service.application import Jobstream


class HistoryService(ABC):  # an ABC: see BatchJobsService
    @abstractmethod
    def events_of(self, aggregate_id: str) -> list[aggregates.Event]:
        """Every stored event of the aggregate, oldest first (upcast to today's shape)."""

    @abstractmethod
    def timeline(
        self, aggregate_id: str, kind: type[object]
    ) -> list[history.HistoryEvent]:
        """The aggregate's timeline; UnknownAggregateError if none (or not of `kind`)."""


class EventHistory(HistoryService):
    def __init__(self, app: Jobstream) -> None:
        self._app = app

    def events_of(self, aggregate_id: str) -> list[aggregates.Event]:
        return history.events_of(self._app, aggregate_id)

    def timeline(
        self, aggregate_id: str, kind: type[object]
    ) -> list[history.HistoryEvent]:
        return history.history(self._app, aggregate_id, kind)
