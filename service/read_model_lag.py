"""The error a read raises when its read model has not reached a write in time."""

from __future__ import annotations


class ReadModelLagError(Exception):
    """The read model did not reach a write's position in time."""
