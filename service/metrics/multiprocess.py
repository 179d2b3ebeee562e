"""Per-process instruments shared across the processes of one data directory.

`serve --workers N` forks N HTTP processes and a scrape reaches one of them; a
`jobstream worker` on the same host runs jobs whose steps are timed in yet another.
prometheus_client's multiprocess mode has each process write its values to
memory-mapped files in one directory (`<data dir>/metrics`), and a scrape sums
them. Job counts are not kept this way: they are read from the batch-jobs read
model at scrape time (`service.metrics.system`), exact across processes and
restarts. Files of processes that are gone are removed when `serve` or `api` starts.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

import structlog
from prometheus_client import values
from prometheus_client.multiprocess import MultiProcessCollector

from service.metrics import instruments

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from prometheus_client.metrics_core import Metric
    from prometheus_client.registry import Collector

log = structlog.get_logger("metrics")
ENV = "PROMETHEUS_MULTIPROC_DIR"  # where prometheus_client's files go (it reads this)
_PID = re.compile(r"_(\d+)\.db$")


def metrics_dir(data_path: Path) -> Path:
    return data_path / "metrics"


def enable(data_path: Path, *, clean: bool) -> Path:
    """Write this process's (and its forks') instruments under `data_path`.

    Call before any instrument is used. `clean`: remove files of dead processes.
    """
    directory = metrics_dir(data_path)
    directory.mkdir(parents=True, exist_ok=True)
    if clean:
        removed = remove_dead(directory)
        if removed:
            log.info("metrics.files_removed", count=removed)
    os.environ[ENV] = str(directory)
    # prometheus_client picks its value class when it is imported; labelled
    # instruments create their values on first use, so choosing it now still works.
    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    instruments.HTTP_REQUESTS.share()
    return directory


def is_enabled() -> bool:
    return bool(getattr(values.ValueClass, "_multiprocess", False))


def remove_dead(directory: Path) -> int:
    """Remove the files of processes that no longer run; return how many."""
    removed = 0
    for path in directory.glob("*.db"):
        match = _PID.search(path.name)
        if match is None or _alive(int(match.group(1))):
            continue
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ProcessInstruments:
    """A collector of the per-process instruments: every process's, or this one's."""

    def __init__(self) -> None:
        self._files: Collector | None = None
        directory = os.environ.get(ENV)
        if is_enabled() and directory:
            self._files = MultiProcessCollector(None, path=directory)  # type: ignore[no-untyped-call]

    def collect(self) -> Iterable[Metric]:
        source = self._files or instruments.REGISTRY
        return source.collect()
