"""The error a read raises when its read model has not reached a write in time."""

from __future__ import annotations


class ReadModelLagError(Exception):
    """The read model did not reach a write's position in time.

    `args[0]` is the position; the message says what happened in words, since a job
    that meets it (a step waiting to read its own writes) shows it to its users. It
    is transient (service.retry): the read model catches up once it can.
    """

    def __init__(self, position: int) -> None:
        super().__init__(position)
        self.position = position

    def __str__(self) -> str:
        return (
            f"the read model did not catch up with event {self.position} in time "
            "(the database or the projections may be unreachable or slow)"
        )
