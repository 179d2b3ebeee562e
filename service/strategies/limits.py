"""Per-batch-type concurrency limits of one process (`JOBSTREAM_TYPE_CONCURRENCY`)."""

from __future__ import annotations

import threading
from collections import Counter

# The built-in types that hold a CPU and memory for their whole run. More of them at
# once than this finish no sooner (they share one interpreter lock) and each holds
# its pages and buffers: 32 exports of 5,000 products at once peaked at 350 MB RSS,
# 4 at a time at 130 MB, in the same 16 s (bench/README.md, "Concurrent exports").
# Light types (the no-op strategy, third-party ones) stay unlimited: they mostly
# wait on the store, and more slots complete more of them.
DEFAULT_LIMITS = {"product-export": 4, "product-import": 4}


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


def limits_of(spec: str) -> dict[str, int]:
    """DEFAULT_LIMITS, with `spec`'s types (`parse_limits`) in place of theirs."""
    return DEFAULT_LIMITS | parse_limits(spec)


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
