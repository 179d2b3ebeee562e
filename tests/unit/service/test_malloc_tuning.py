"""glibc's arenas are capped and their free pages go back to the kernel.

mallopt and fork handlers are process-wide, so each case runs in a process of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from service import malloc_tuning

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="glibc's malloc (Linux)"
)


def run_python(code: str, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**environ, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


def test_the_arenas_are_capped_unless_the_operator_set_a_cap() -> None:
    code = "from service.malloc_tuning import cap_arenas; print(cap_arenas())"
    assert run_python(code) == "True"
    assert run_python(code, MALLOC_ARENA_MAX="4") == "False"


def test_a_trim_returns_the_freed_pages_of_a_threads_arena() -> None:
    # 60 MB in 600-byte blocks on a thread (its own arena), all freed but the last,
    # which pins the arena's top: glibc keeps the pages until a trim.
    code = """
        import threading
        from service.malloc_tuning import trim

        def rss_mb():
            for line in open("/proc/self/status"):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024

        kept = []
        def churn():
            blocks = [bytearray(600) for _ in range(100_000)]
            kept.append(blocks.pop())
            del blocks

        thread = threading.Thread(target=churn)
        thread.start()
        thread.join()
        before = rss_mb()
        trimmed = trim()
        print(trimmed, round(before - rss_mb()))
    """
    trimmed, released_mb = run_python(code).split()
    assert trimmed == "True"
    assert int(released_mb) >= 30


def test_a_forked_process_trims_on_a_thread_of_its_own() -> None:
    code = """
        import os, threading, time
        from service import malloc_tuning

        malloc_tuning.tune_malloc()
        pid = os.fork()
        if pid == 0:
            time.sleep(0.2)
            names = [t.name for t in threading.enumerate()]
            os._exit(0 if "malloc-trim" in names else 1)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
    """
    assert run_python(code) == "0"


def test_a_trimmer_trims_until_stopped() -> None:
    trimmer = malloc_tuning.Trimmer(interval=0.01).start()
    try:
        deadline = time.monotonic() + 5
        while trimmer.trims < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        trimmer.stop()
    stopped_at = trimmer.trims
    time.sleep(0.05)
    assert stopped_at >= 3
    assert trimmer.trims == stopped_at
