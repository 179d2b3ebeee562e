"""Is PostgreSQL reachable right now? Known without waiting, from a probe of its own.

During a network cut every statement on an open connection waits for TCP to give up,
and eventsourcing retries a failed one ten times: a request that reaches the
database then hangs for many seconds. A `DatabaseGate` answers at once instead. A
thread runs `SELECT 1` every PROBE_SECONDS on a connection of its own; the database
counts as down when no probe has succeeded for STALE_SECONDS, whatever the probe is
stuck on (it may wait on a dead peer itself), and as up again with the next success.

The API refuses requests with 503 while it is down (service.http.database_cut), and
`/health` reads the gate instead of connecting (service.pg_probe). One gate per
database per process, opened by the API's lifespan.
"""

from __future__ import annotations

import contextlib
import threading
import time

import psycopg
import structlog

from service import pg_timeouts

log = structlog.get_logger("database")

PROBE_SECONDS = 0.5
# No successful probe for this long: down. With PROBE_SECONDS, a cut is known within
# 1.5-2 s; a probe delayed by a busy machine has a second of slack.
STALE_SECONDS = 1.5
# A probe statement that overruns this is cancelled by the server (and the probe
# reconnects); a dead peer is left to STALE_SECONDS and the TCP timeouts.
STATEMENT_TIMEOUT_MS = 1_000
# How often a request in flight looks at the gate (service.http.database_cut, and
# the hot lane's reads: service.api_services.awaitable_reads).
RECHECK_SECONDS = 0.25

# database URL -> (its gate, how many opened it)
_open_gates: dict[str, tuple[DatabaseGate, int]] = {}
_registry_lock = threading.Lock()


class DatabaseGate:
    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._last_ok = time.monotonic()  # up until shown otherwise
        self._said_down = False
        self._last_error = "no probe answered yet"
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._probe_forever, name="database-gate", daemon=True
        )

    def start(self) -> None:
        self._last_ok = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        # The probe may wait on a dead peer: not joined for longer than a probe.
        self._thread.join(STALE_SECONDS)

    def down(self) -> str | None:
        """None while PostgreSQL answers; else why not (at once, no I/O)."""
        silent = time.monotonic() - self._last_ok
        if silent <= STALE_SECONDS:
            return None
        return (
            f"down: PostgreSQL has not answered for {silent:.1f} s ({self._last_error})"
        )

    def _probe_forever(self) -> None:
        connection: psycopg.Connection[tuple[object, ...]] | None = None
        while not self._stop.is_set():
            try:
                if connection is None or connection.closed:
                    connection = psycopg.connect(
                        pg_timeouts.with_timeouts(self._url, 1),
                        autocommit=True,
                        options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
                    )
                connection.execute("SELECT 1")
                self._mark_up()
            except psycopg.Error as error:
                self._last_error = type(error).__name__
                if connection is not None:
                    with contextlib.suppress(psycopg.Error):
                        connection.close()
                    connection = None
                self._mark_down_if_stale()
            self._stop.wait(PROBE_SECONDS)
        if connection is not None:
            with contextlib.suppress(psycopg.Error):
                connection.close()

    def _mark_up(self) -> None:
        self._last_ok = time.monotonic()
        if self._said_down:
            self._said_down = False
            log.info("database.reachable")

    def _mark_down_if_stale(self) -> None:
        reason = self.down()
        if reason is not None and not self._said_down:
            self._said_down = True
            log.warning("database.unreachable", reason=reason)


def open_gate(database_url: str) -> DatabaseGate:
    """The process's gate on `database_url`, started; `close_gate` it when done."""
    with _registry_lock:
        gate, users = _open_gates.get(database_url, (None, 0))
        if gate is None:
            gate = DatabaseGate(database_url)
            gate.start()
        _open_gates[database_url] = (gate, users + 1)
        return gate


def close_gate(database_url: str) -> None:
    """Stop the gate once its last user closed it."""
    with _registry_lock:
        gate, users = _open_gates.pop(database_url)
        if users > 1:
            _open_gates[database_url] = (gate, users - 1)
            return
    gate.stop()


def gate_on(database_url: str) -> DatabaseGate | None:
    """The open gate on `database_url`, if this process has one."""
    entry = _open_gates.get(database_url)
    return entry[0] if entry is not None else None
