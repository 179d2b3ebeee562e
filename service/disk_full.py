"""Whether a database error means its disk (or quota) is full.

SQLite says `database or disk is full`; PostgreSQL `could not extend file ...: No
space left on device` (SQLSTATE 53100), or `could not write ...` with the same reason.
eventsourcing wraps both in its own OperationalError, so the text (and the chain of
causes) is what is left to read.
"""

from __future__ import annotations

SIGNS = ("database or disk is full", "No space left on device", "Disk quota exceeded")
DISK_FULL_SQLSTATE = "53100"
MESSAGE = (
    "The data store is out of disk space: the change was not saved. "
    "Free some space and try again"
)


def is_disk_full(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if getattr(seen, "sqlstate", None) == DISK_FULL_SQLSTATE:
            return True
        if any(sign in str(seen) for sign in SIGNS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
