"""Moved to service.engine.steps; these names stay for callers of the old module."""

from __future__ import annotations

from service.engine.steps import JobSteps as JobLifecycle
from service.engine.steps import RetryLater, worker_actor

__all__ = ["JobLifecycle", "RetryLater", "worker_actor"]
