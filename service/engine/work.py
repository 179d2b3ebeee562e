"""The engine's port to whatever delivers work: a job id, a step, and how to settle it."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence

    from domain.batch_jobs import BatchJob


class Step(StrEnum):
    """What a delivery asks of the engine (Medusa's subscriber: created, confirmed)."""

    PRE_PROCESS = "pre_process"  # on batch.created
    PROCESS = "process"  # on batch.confirmed


class Work(Protocol):
    """One delivery of work; exactly one of ack, nak or term settles it."""

    @property
    def job_id(self) -> str: ...

    @property
    def step(self) -> Step: ...

    @property
    def attempt(self) -> int:
        """1 for the first delivery, then one more per redelivery."""
        ...

    @property
    def trace_parent(self) -> str | None:
        """The W3C traceparent the delivery came with, if any (service.tracing)."""
        ...

    @property
    def created(self) -> BatchJob | None:
        """The job as its batch.created event made it, where the delivery decoded it.

        A copy that spares pre-processing a read; it may be stale (JobSteps).
        """
        ...

    def ack(self) -> None:
        """Done: never deliver it again."""

    def nak(self, delay: float) -> None:
        """Deliver it again (here or to another engine) after `delay` seconds."""

    def term(self) -> None:
        """It can never be done (a malformed message): drop it for good."""

    def in_progress(self) -> None:
        """Still working: do not hand it to another engine yet (a heartbeat)."""


class WorkSource(Protocol):
    def fetch(self, most: int, timeout: float) -> Sequence[Work]:
        """Up to `most` deliveries; waits up to `timeout` seconds for the first."""
        ...

    def close(self) -> None:
        """Stop delivering; what is not settled will be delivered again later."""
