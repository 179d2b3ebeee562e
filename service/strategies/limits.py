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
    """How many jobs of each limited type run here now; unlisted types are unlimited.

    A job of a type at its limit is given back by the engine (service.engine.loop),
    never waited for: a waiting thread would hold a slot other types need.
    """

    def __init__(self, limits: dict[str, int]) -> None:
        self._limits = dict(limits)
        self._running: Counter[str] = Counter()
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        """Whether any type is limited (if not, callers need not look up job types)."""
        return bool(self._limits)

    def try_acquire(self, batch_type: str) -> bool:
        with self._lock:
            limit = self._limits.get(batch_type)
            if limit is not None and self._running[batch_type] >= limit:
                return False
            self._running[batch_type] += 1
            return True

    def release(self, batch_type: str) -> None:
        with self._lock:
            self._running[batch_type] -= 1
