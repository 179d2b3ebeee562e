"""Per-batch-type concurrency limits of one process (`JOBSTREAM_TYPE_CONCURRENCY`)."""

from __future__ import annotations

import threading
from collections import Counter


def parse_limits(spec: str) -> dict[str, int]:
    """`"product-import=1,product-export=4"` → {"product-import": 1, "product-export": 4}."""
    limits: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        batch_type, separator, count = item.partition("=")
        if not separator or not count.strip().isdigit() or int(count) < 1:
            raise ValueError(
                f"JOBSTREAM_TYPE_CONCURRENCY: expected type=N (N >= 1), got {item!r}"
            )
        limits[batch_type.strip()] = int(count)
    return limits


class TypeLimits:
    """How many jobs of each limited type run here now; unlisted types are unlimited."""

    def __init__(self, limits: dict[str, int]) -> None:
        self._limits = dict(limits)
        self._running: Counter[str] = Counter()
        self._changed = threading.Condition()

    @property
    def active(self) -> bool:
        """Whether any type is limited (if not, callers need not look up job types)."""
        return bool(self._limits)

    def try_acquire(self, batch_type: str) -> bool:
        with self._changed:
            limit = self._limits.get(batch_type)
            if limit is not None and self._running[batch_type] >= limit:
                return False
            self._running[batch_type] += 1
            return True

    def acquire(self, batch_type: str) -> None:
        """Wait for a slot (the in-process processor's threads may wait)."""
        with self._changed:
            self._changed.wait_for(lambda: self._has_room(batch_type))
            self._running[batch_type] += 1

    def release(self, batch_type: str) -> None:
        with self._changed:
            self._running[batch_type] -= 1
            self._changed.notify_all()

    def _has_room(self, batch_type: str) -> bool:
        limit = self._limits.get(batch_type)
        return limit is None or self._running[batch_type] < limit
