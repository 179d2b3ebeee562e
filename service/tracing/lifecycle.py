"""Tracing for the life of a process: started by its first bootstrap, flushed by its last.

A process may build several bootstraps (the tests do); the provider is built once,
on the first that finds tracing wanted, and shut down (its spans flushed) when the
last of those closes.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from service.tracing.config import wanted

if TYPE_CHECKING:
    from collections.abc import Mapping

    from opentelemetry.sdk.trace import TracerProvider


class _ProcessTracing:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._provider: TracerProvider | None = None

    def acquire(self, environ: Mapping[str, str]) -> bool:
        """Start tracing if the environment asks; True if this caller must release."""
        if not wanted(environ):
            return False
        # Imported only now: with tracing off, nothing of OpenTelemetry is loaded.
        from service.tracing import spans  # noqa: PLC0415
        from service.tracing.provider import build_provider  # noqa: PLC0415

        with self._lock:
            if self._provider is None:
                self._provider = build_provider(environ)
                spans.use(self._provider)
            self._holders += 1
        return True

    def release(self) -> None:
        """The last holder flushes every span and turns tracing off."""
        from service.tracing import spans  # noqa: PLC0415 - loaded by acquire

        with self._lock:
            self._holders -= 1
            if self._holders > 0 or self._provider is None:
                return
            provider, self._provider = self._provider, None
        spans.stop_using()
        provider.shutdown()


_process = _ProcessTracing()


def acquire(environ: Mapping[str, str] | None = None) -> bool:
    """Start the process's tracing if `OTEL_*` asks for it (the SDK reads os.environ)."""
    return _process.acquire(os.environ if environ is None else environ)


def release() -> None:
    _process.release()
