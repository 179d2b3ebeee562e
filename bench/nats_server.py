"""A nats-server with JetStream of a benchmark's own, on free loopback ports.

Shared by pipeline.py (roles as separate processes) and api_lifecycle.py (`serve`
with NATS): each run gets a fresh server and store, so no stream, consumer or
object bucket of another run is in the way.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import httpx

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

NATS_SERVER = "/usr/sbin/nats-server"
NATS_START_TIMEOUT = 10.0
READY_TIMEOUT = 30.0  # relay or worker process start to its NATS connection
STOP_TIMEOUT = 15.0


class Member(Protocol):
    """A process that connects to the server (pipeline.py's relay or worker)."""

    @property
    def process(self) -> subprocess.Popen[bytes]: ...

    @property
    def log(self) -> Path: ...


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + NATS_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"nats-server exited {process.returncode}:\n{log_tail(log)}"
            )
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nats-server not listening after {NATS_START_TIMEOUT} s")


@dataclass(frozen=True)
class NatsServer:
    url: str
    monitor_url: str  # its HTTP monitoring endpoint (-m), for /connz
    pid: int  # its CPU counts in a job's cost

    def connections_named(self, name: str) -> int:
        response = httpx.get(f"{self.monitor_url}/connz", timeout=5)
        response.raise_for_status()
        connections = response.json().get("connections") or []
        return sum(1 for c in connections if c.get("name") == name)

    def wait_connected(self, member: Member, name: str, count: int) -> None:
        """Until `count` clients called `name` are connected: the newest is up.

        Relay and worker connect to NATS only after creating their tables, so this
        also keeps their start-up DDL from running at the same time as the next one's.
        """
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if member.process.poll() is not None:
                raise RuntimeError(
                    f"{member.log.stem} exited {member.process.returncode}:\n"
                    f"{log_tail(member.log)}"
                )
            if self.connections_named(name) >= count:
                return
            time.sleep(0.05)
        raise RuntimeError(
            f"{member.log.stem}: no NATS connection after {READY_TIMEOUT} s"
        )


@contextlib.contextmanager
def running_nats(directory: Path) -> Iterator[NatsServer]:
    """A nats-server with JetStream of our own, on free loopback ports."""
    port, monitor, log = free_port(), free_port(), directory / "nats.log"
    while monitor == port:
        monitor = free_port()
    store = directory / "jetstream"
    store.mkdir()
    command = [NATS_SERVER, "-a", "127.0.0.1", "-p", str(port), "-m", str(monitor)]
    command += ["-js", "-sd", str(store)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=output)
    try:
        wait_for_port(port, process, log)
        wait_for_port(monitor, process, log)
        yield NatsServer(
            f"nats://127.0.0.1:{port}", f"http://127.0.0.1:{monitor}", process.pid
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def nats_server_version() -> str:
    done = subprocess.run(
        [NATS_SERVER, "--version"], capture_output=True, text=True, check=False
    )
    return (done.stdout + done.stderr).strip() or "nats-server (unknown version)"
