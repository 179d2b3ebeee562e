"""Jobstream's roles as separate processes, started in order and stopped together.

`api_lifecycle.py --backends roles` runs this in place of `jobstream serve`: the
read models (`jobstream projections`), the HTTP API (`jobstream api`, with the
environment's HTTP process count), the outbox (`jobstream relay`) and the jobs
(`jobstream worker`), each a process of its own on the same PostgreSQL database
and NATS server, so no one process's interpreter lock bounds them all. Each starts
once the one before it is up (its tables made: start-up DDL must not overlap), and
logs to `<BENCH_ROLES_LOGS>/<role>.log`. SIGTERM or SIGINT stops them all; if any
of them exits, the rest are stopped and this exits non-zero. The API starts last, so its /health
answering 200 means every role is up.

Run by the benchmark, with the server's `JOBSTREAM_*` variables and
`BENCH_NATS_MONITOR` (the nats-server's monitoring URL, for its /connz).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg

JOBSTREAM = Path(sys.executable).with_name("jobstream")
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def spawn(role: str, logs: Path) -> subprocess.Popen[bytes]:
    with (logs / f"{role}.log").open("ab") as log:
        return subprocess.Popen([str(JOBSTREAM), role], stdout=log, stderr=log)


def until(
    ready: Callable[[], bool], what: str, members: list[subprocess.Popen[bytes]]
) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while not ready():
        for member in members:
            if member.poll() is not None:
                raise RuntimeError(f"{member.args!r} exited {member.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"not ready after {READY_TIMEOUT:.0f} s: {what}")
        time.sleep(0.05)


def views_made(database_url: str) -> bool:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT to_regclass('batchjobs_tracking')").fetchone()
    return row is not None and row[0] is not None


def api_healthy(port: str) -> bool:
    try:
        return (
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
        )
    except httpx.HTTPError:
        return False


def connected(monitor: str, name: str) -> bool:
    answer = httpx.get(f"{monitor}/connz", timeout=5).json()
    return any(c.get("name") == name for c in answer.get("connections") or [])


def main() -> int:
    logs = Path(os.environ["BENCH_ROLES_LOGS"])
    monitor = os.environ["BENCH_NATS_MONITOR"]
    database_url = os.environ["JOBSTREAM_DATABASE_URL"]
    members: list[subprocess.Popen[bytes]] = []
    stopping: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda sig, _: stopping.append(sig))
    try:
        members.append(spawn("projections", logs))
        until(lambda: views_made(database_url), "projections", members)
        members.append(spawn("relay", logs))
        until(lambda: connected(monitor, "jobstream-relay"), "relay", members)
        members.append(spawn("worker", logs))
        until(lambda: connected(monitor, "jobstream-worker"), "worker", members)
        # Last: its /health answering is the benchmark's sign that all are up.
        members.append(spawn("api", logs))
        until(lambda: api_healthy(os.environ["JOBSTREAM_PORT"]), "api", members)
        while not stopping and all(m.poll() is None for m in members):
            time.sleep(0.2)
    finally:
        for member in reversed(members):  # the worker first, projections last
            if member.poll() is None:
                member.send_signal(signal.SIGTERM)
        for member in reversed(members):
            try:
                member.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                member.kill()
                member.wait()
    return 0 if stopping else 1


if __name__ == "__main__":
    sys.exit(main())
