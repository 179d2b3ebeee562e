"""Failed logins per account and per client address, in a sliding window, in memory."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

# Bounds the memory an attacker can fill by trying many emails or addresses.
MAX_TRACKED_KEYS = 100_000


class LoginThrottledError(Exception):
    """Too many failed logins for the account or the address; retry after a while."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Attempt:
    keys: tuple[tuple[str, str], ...]
    at: float


class LoginLimiter:
    """A sliding log of recent attempts per key; a limit of 0 or less turns a key off.

    An attempt counts from the moment it begins (concurrent guesses cannot overshoot
    the limit); a successful one is taken back and clears its account's log.
    """

    def __init__(
        self,
        per_account: int,
        per_address: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = {"account": per_account, "address": per_address}
        self._window = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._recent: dict[tuple[str, str], deque[float]] = {}

    def begin(self, account: str, address: str) -> Attempt:
        """Count an attempt; LoginThrottledError when a key is at its limit."""
        now = self._clock()
        keys = tuple(
            (kind, value)
            for kind, value in (("account", account.lower()), ("address", address))
            if self._limits[kind] > 0
        )
        with self._lock:
            wait = max((self._wait(key, now) for key in keys), default=0.0)
            if wait > 0:
                raise LoginThrottledError(wait)
            if len(self._recent) >= MAX_TRACKED_KEYS:
                self._forget_old(now)
            for key in keys:
                limit = self._limits[key[0]]
                self._recent.setdefault(key, deque(maxlen=limit)).append(now)
        return Attempt(keys, now)

    def succeeded(self, attempt: Attempt) -> None:
        with self._lock:
            for key in attempt.keys:
                if key[0] == "account":
                    self._recent.pop(key, None)
                else:
                    self._discard(key, attempt.at)

    def abandoned(self, attempt: Attempt) -> None:
        """The password was never checked: the attempt does not count."""
        with self._lock:
            for key in attempt.keys:
                self._discard(key, attempt.at)

    def _wait(self, key: tuple[str, str], now: float) -> float:
        stamps = self._recent.get(key)
        if stamps is None:
            return 0.0
        while stamps and stamps[0] <= now - self._window:
            stamps.popleft()
        if not stamps:
            del self._recent[key]
            return 0.0
        if len(stamps) < self._limits[key[0]]:
            return 0.0
        return stamps[0] + self._window - now

    def _discard(self, key: tuple[str, str], at: float) -> None:
        stamps = self._recent.get(key)
        if stamps is not None and at in stamps:
            stamps.remove(at)

    def _forget_old(self, now: float) -> None:
        """Drop expired logs; if that is not enough, the older half of the keys."""
        expired = [
            k for k, v in self._recent.items() if not v or v[-1] <= now - self._window
        ]
        for key in expired:
            del self._recent[key]
        if len(self._recent) >= MAX_TRACKED_KEYS:
            for key in list(self._recent)[: MAX_TRACKED_KEYS // 2]:
                del self._recent[key]
