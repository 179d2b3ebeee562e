"""What the health endpoints use: each dependency's state, and how far readers lag."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


class HealthService(ABC):  # an ABC: see BatchJobsService
    @abstractmethod
    def checks(self) -> dict[str, str]:
        """Each dependency's state: "ok", or why not."""

    @abstractmethod
    def details(self) -> dict[str, object]:
        """Health, the log's head, and how far each reader of it is behind."""


class Health(HealthService):
    """Over the process's own checks (the runtime's: it knows what runs here)."""

    def __init__(
        self,
        checks: Callable[[], dict[str, str]],
        details: Callable[[], dict[str, object]],
    ) -> None:
        self._checks, self._details = checks, details

    def checks(self) -> dict[str, str]:
        return self._checks()

    def details(self) -> dict[str, object]:
        return self._details()
