"""glibc malloc settings for Jobstream's long-running processes.

Python takes objects over 512 bytes (event payloads, JSON documents, result pages)
from the C allocator. glibc gives each thread that contends for it an arena of its
own, up to eight per core, and keeps what is freed in an arena for reuse rather than
returning it. With the engine's 32 slots, the read-model runners and the HTTP loop,
a process's resident memory crept up with the jobs it had run although its live
objects did not (measured with no-op jobs on 8 connections for 90 s, embedded
`serve`: the primary's RSS +11.5 MB with the defaults, +5.8 MB with two arenas,
+2.4 MB with two arenas trimmed every 10 s, at the same job rate; tracemalloc
counted +0.8 MB of live Python objects over such a run).

So each process keeps two arenas (unless the operator set `MALLOC_ARENA_MAX`) and
returns its arenas' free pages to the kernel every `TRIM_SECONDS`. A trim walks the
arenas under their locks (about a millisecond at 100 MB) on a thread of its own,
without the GIL. Elsewhere than glibc both are no-ops.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading

M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h
ARENAS = 2
TRIM_SECONDS = 10.0


@functools.cache  # each CDLL makes classes of its own: one, not one a trim
def _glibc() -> ctypes.CDLL | None:
    libc = ctypes.CDLL(None)
    if not hasattr(libc, "gnu_get_libc_version"):
        return None
    return libc


def cap_arenas(arenas: int = ARENAS) -> bool:
    """Keep at most `arenas` malloc arenas; True if glibc took it.

    Call it before threads start: arenas that already exist stay. An operator's
    `MALLOC_ARENA_MAX`, which glibc read at start-up, is left as it is.
    """
    libc = _glibc()
    if libc is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    return bool(libc.mallopt(M_ARENA_MAX, arenas))


def trim() -> bool:
    """Return free pages of every arena to the kernel; True if some were."""
    libc = _glibc()
    return libc is not None and bool(libc.malloc_trim(0))


class Trimmer:
    """A daemon thread that trims every `interval` seconds until stopped."""

    def __init__(self, interval: float = TRIM_SECONDS) -> None:
        self._interval = interval
        self._stopped = threading.Event()
        self.trims = 0
        self._thread = threading.Thread(
            target=self._run, name="malloc-trim", daemon=True
        )

    def start(self) -> Trimmer:
        if _glibc() is not None:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            trim()
            self.trims += 1


def tune_malloc() -> None:
    """Cap the arenas, and trim in this process and in every process it forks.

    Threads do not survive a fork, so each forked HTTP process starts its own.
    """
    cap_arenas()
    Trimmer().start()
    os.register_at_fork(after_in_child=lambda: Trimmer().start())
