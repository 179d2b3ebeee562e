"""Stored files removed for their age: exports and error reports, and abandoned uploads.

Two limits (docs/operations.md, "Retention"): exports and import error reports go
`JOBSTREAM_FILE_RETENTION_HOURS` after they were stored, every other file (uploads,
an import's leftover instruction file) `JOBSTREAM_UPLOAD_RETENTION_HOURS` after; 0
keeps them. A file in use is never removed, however old: one whose key names a job
that is not final (its export, its report, its instructions) or that such a job's
context names (`fileKey`, the import's upload). A file being written is not listed
(local: a dot-named part; NATS: no metadata until the last chunk).

Every process that runs jobs sweeps (`serve`, each `worker`), every few minutes. Sweeps
are idempotent: a file another sweeper removed first is skipped, and its removal is
recorded once (the owner record's `file_owner.expired`, which turns a later download
into a 404 that says when and why the file went).
"""

from __future__ import annotations

import os
import re
import socket
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog

from service.engine.clock import SYSTEM_CLOCK
from service.files.owners import FileOwners

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from datetime import datetime
    from typing import Any

    from projections.batch_jobs.view import BatchJobsView
    from service.application import Jobstream
    from service.engine.clock import Clock
    from service.files.storage import FileStorage, StoredFile
    from service.settings import Settings

log = structlog.get_logger("files")
# Job outputs: product exports and import error reports (`service.strategies`).
OUTPUT_PREFIXES = ("exports/", "imports/products/errors/")
# A job id inside a key: `batch_` and a ULID (Crockford base 32).
JOB_ID = re.compile(r"batch_[0-9A-HJKMNP-TV-Z]{26}")
SWEEP_SECONDS = 300.0  # how often a process looks for old files


@dataclass(frozen=True)
class RetentionRules:
    """Hours each kind of file is kept; 0 keeps it for ever."""

    file_hours: float
    upload_hours: float

    @classmethod
    def of(cls, settings: Settings) -> RetentionRules:
        return cls(settings.file_retention_hours, settings.upload_retention_hours)

    @property
    def enabled(self) -> bool:
        return self.file_hours > 0 or self.upload_hours > 0

    def hours_for(self, key: str) -> float:
        return self.file_hours if key.startswith(OUTPUT_PREFIXES) else self.upload_hours

    def expired(self, stored: StoredFile, now: datetime) -> bool:
        """Older than its kind's limit (never, for a limit of 0)."""
        hours = self.hours_for(stored.key)
        return hours > 0 and now - stored.stored_at >= timedelta(hours=hours)


@dataclass(frozen=True)
class FilesInUse:
    """What unfinished jobs hold: their ids (in their files' keys) and named files."""

    job_ids: frozenset[str]
    keys: frozenset[str]

    @classmethod
    def of_jobs(cls, contexts: Mapping[str, Mapping[str, Any]]) -> FilesInUse:
        """From each unfinished job's id and context (`fileKey`: its upload)."""
        keys = {c.get("fileKey") for c in contexts.values()}
        return cls(
            frozenset(contexts), frozenset(k for k in keys if isinstance(k, str))
        )

    def holds(self, key: str) -> bool:
        return key in self.keys or any(
            job_id in self.job_ids for job_id in JOB_ID.findall(key)
        )


@dataclass
class SweepReport:
    removed: list[str] = field(default_factory=list)
    bytes: int = 0
    kept_in_use: int = 0


class FileSweeper:
    """Removes expired files that no unfinished job holds; `sweep()` once, or `start()`.

    `in_use` reads the unfinished jobs (from the batch-jobs read model, caught up to
    the event log first); `expired` records a removal (the owner record).
    """

    def __init__(  # noqa: PLR0913 - wiring, all by name
        self,
        files: FileStorage,
        rules: RetentionRules,
        *,
        in_use: Callable[[], FilesInUse],
        expired: Callable[[str, float, str], None] | None = None,
        clock: Clock = SYSTEM_CLOCK,
        interval: float = SWEEP_SECONDS,
    ) -> None:
        self._files = files
        self._rules = rules
        self._in_use = in_use
        self._expired = expired
        self._clock = clock
        self._interval = interval
        self._actor = f"retention:{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep(self) -> SweepReport:
        report = SweepReport()
        if not self._rules.enabled:
            return report
        now = self._clock.now()
        candidates = self._candidates(self._files.list_files(), now)
        if not candidates:
            return report  # nothing old: the jobs are not read
        # Read after listing: a job that takes up an old file meanwhile is seen.
        in_use = self._in_use()
        for stored in candidates:
            if in_use.holds(stored.key):
                report.kept_in_use += 1
                continue
            if not self._files.delete(stored.key):
                continue  # another sweeper (or its owner) removed it first
            report.removed.append(stored.key)
            report.bytes += stored.size
            if self._expired is not None:
                self._expired(
                    stored.key, self._rules.hours_for(stored.key), self._actor
                )
        if report.removed or report.kept_in_use:
            log.info(
                "files.swept",
                removed=len(report.removed),
                bytes=report.bytes,
                kept_in_use=report.kept_in_use,
            )
        return report

    def _candidates(
        self, files: Iterable[StoredFile], now: datetime
    ) -> list[StoredFile]:
        return [stored for stored in files if self._rules.expired(stored, now)]

    def start(self) -> None:
        """Sweep every `interval` seconds on a thread of its own (if any limit is set)."""
        if not self._rules.enabled:
            return
        self._thread = threading.Thread(
            target=self._run, name="file-sweeper", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.sweep()
            except Exception as error:  # noqa: BLE001 - NATS or the database away: next time
                log.warning("files.sweep_failed", error=repr(error))


def sweeper_for(  # noqa: PLR0913 - wiring, the clock by name
    settings: Settings,
    files: FileStorage,
    app: Jobstream,
    jobs: BatchJobsView,
    catch_up: Callable[[], None],
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> FileSweeper:
    """The sweeper of a process that runs jobs; `catch_up` brings `jobs` to the log's head."""

    def in_use() -> FilesInUse:
        catch_up()  # every job stored so far is in the view (else: raises, next sweep)
        return FilesInUse.of_jobs(jobs.unfinished_contexts())

    return FileSweeper(
        files,
        RetentionRules.of(settings),
        in_use=in_use,
        expired=FileOwners(app).expire,
        clock=clock,
    )
