"""eventsourcing's SQLite factory, with the durability each store needs.

SQLite in WAL mode syncs the log to disk at every commit by default (`synchronous`
FULL): about 0.4 ms of this machine's time per commit, more than the rest of a small
save. A read model, the engine's position and the worker registry are derived from
the event log: after a power cut they may be rolled back to an earlier consistent
state (their tracking row moves with them, in the same transaction) and the
projection or engine takes the events again. They run with `synchronous=NORMAL`,
which syncs only at checkpoints and is still safe against a crashed process. The
event log itself keeps FULL unless JOBSTREAM_SQLITE_SYNCHRONOUS says otherwise.

Writers of a file, in every process, take turns on a lock of their own before
SQLite's (service.sqlite_writer_turns): SQLite's busy handler sleeps milliseconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.sqlite import SQLiteFactory

from projections.store_internals import on_each_sqlite_connection
from service.sqlite_writer_turns import take_turns

if TYPE_CHECKING:
    from eventsourcing.utils import Environment, EnvType

TOPIC = "service.sqlite_factory:SyncingSQLiteFactory"
SYNCHRONOUS = "SQLITE_SYNCHRONOUS"  # the env key: "full" or "normal"
MODES = ("full", "normal")
DEFAULT_LOCK_TIMEOUT = 5  # s: SQLite's own default, where SQLITE_LOCK_TIMEOUT is unset


class SyncingSQLiteFactory(SQLiteFactory):
    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        mode = (self.env.get(SYNCHRONOUS) or "full").lower()
        if mode not in MODES:
            raise OSError(f"{SYNCHRONOUS} must be one of {', '.join(MODES)}: {mode!r}")
        on_each_sqlite_connection(self.datastore, f"PRAGMA synchronous={mode.upper()}")
        timeout = self.datastore.pool.lock_timeout or DEFAULT_LOCK_TIMEOUT
        self.writer_turns = take_turns(self.datastore, float(timeout))

    def close(self) -> None:
        super().close()
        if self.writer_turns is not None:
            self.writer_turns.close()
            self.writer_turns = None
