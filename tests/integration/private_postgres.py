"""A PostgreSQL server of one test's own, to stop and start without touching others.

initdb refuses to run as root: the server's files belong to the `postgres` user when
the tests run as root (as in CI), and every command runs as that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from tests.integration.conftest import free_port


def _binary(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        raise RuntimeError(f"{name} not found under /usr/lib/postgresql/*/bin")
    return str(found[-1])


class PrivatePostgres:
    def __init__(self) -> None:
        # Under /tmp, not pytest's root-only tmp_path: the server user must reach it.
        self.directory = Path(tempfile.mkdtemp(prefix="jobstream-pg-"))
        self.data, self.log = self.directory / "data", self.directory / "server.log"
        self.port = free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.directory, account.pw_uid, account.pw_gid)
            self._as_user = [
                shutil.which("runuser") or "runuser",
                "-u",
                "postgres",
                "--",
            ]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        subprocess.run(
            [*self._as_user, *command], check=True, capture_output=True, timeout=60
        )

    def init(self) -> None:
        self._run(
            _binary("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "--no-sync", "-E", "UTF8",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c fsync=off -c synchronous_commit=off -c max_connections=200"
        )
        self._run(
            _binary("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o",
            options, "-w", "-t", "30", "start",
        )  # fmt: skip
        self._wait_ready()

    def stop(self, mode: str = "fast") -> None:
        """`fast` disconnects every client and shuts down cleanly; `immediate` aborts."""
        if (self.data / "postmaster.pid").exists():
            self._run(
                _binary("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30",
                "stop",
            )  # fmt: skip

    def _wait_ready(self, seconds: float = 30.0) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                psycopg.connect(self.url, connect_timeout=2).close()
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
            else:
                return

    def remove(self) -> None:
        """Stop (if running) and delete everything; safe on every exit path."""
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
