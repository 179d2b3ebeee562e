"""What the health endpoints use: each dependency's state, and how far readers lag."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from service import broker_probe

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


def with_broker(nats_url: str | None, checks: dict[str, str]) -> dict[str, str]:
    """The checks, and NATS's state where it is configured (jobs and files need it)."""
    if nats_url is None:
        return checks
    return {**checks, "nats": broker_probe.nats_state(nats_url)}


def details_with_broker(
    nats_url: str | None, report: dict[str, object]
) -> dict[str, object]:
    """The details report, its checks with NATS's state where it is configured."""
    checks = report.get("checks")
    if nats_url is None or not isinstance(checks, dict):
        return report
    return {**report, "checks": with_broker(nats_url, checks)}
