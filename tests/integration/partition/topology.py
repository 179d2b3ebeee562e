"""Jobstream deployed across hosts: PostgreSQL, 3 NATS nodes, APIs, read models, workers.

As issue 14 runs it: a database host, a 3-node NATS cluster (stream and file bucket at 3
replicas), two API hosts, a read-model host, and two hosts each with a relay and a
worker. Leases are short so that a cut longer than a lease fits in seconds.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from service.settings import Settings
from tests.integration.partition import netns, plugins
from tests.integration.partition.netns import SUBNET, Host, Network
from tests.integration.private_postgres import PrivatePostgres, _binary
from tests.integration.processes import ROOT, wait_for_log

LEASE_SECONDS = 3.0
# A job whose work message a cut lost is sent again after this (default 60 s).
REDRIVE_SECONDS = 2 * LEASE_SECONDS
LEADERSHIP_SECONDS = 5.0  # JOBSTREAM_RELAY_LEADERSHIP_SECONDS (default 15)
TOKEN = "partition-token"
NATS_PORT, NATS_CLUSTER_PORT, NATS_MONITOR_PORT = 4222, 6222, 8222
API_PORT = 9000
DIRECTORY_PREFIX = "jobstream-partition-"  # then the run's tag: see remove_leftovers
WORKER_HOSTS = ("w1", "w2")
NATS_HOSTS = ("n1", "n2", "n3")


class HostPostgres(PrivatePostgres):
    """The private PostgreSQL, run inside the database host, listening on its address."""

    def __init__(self, host: Host, prefix: str) -> None:
        super().__init__()
        named = self.directory.with_name(prefix + self.directory.name)
        self.directory = self.directory.rename(named)  # found by name if left over
        self.data, self.log = self.directory / "data", self.directory / "server.log"
        self.host, self.port = host, 5432
        self._as_user = host.command(*self._as_user)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@{self.host.address}:{self.port}/postgres"

    def init(self) -> None:
        super().init()
        with (self.data / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {SUBNET}.0/24 trust\n")  # the private subnet

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses={self.host.address} "
            f"-k {self.directory} -c fsync=off -c synchronous_commit=off "
            "-c max_connections=300"
        )
        self._run(
            _binary("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o",
            options, "-w", "-t", "30", "start",
        )  # fmt: skip
        self._wait_ready()


class Deployment:
    """Everything on the network; `settings` reach it from a thread `inside` a host."""

    def __init__(self, network: Network, logs: Path) -> None:
        self.network, self.logs = network, logs  # logs outlive the run: pytest's tmp
        prefix = f"{DIRECTORY_PREFIX}{network.tag}-"
        self.directory = Path(tempfile.mkdtemp(prefix=prefix))
        self.plugins = plugins.install(self.directory / "plugins")
        self.client = network.add("client")  # the test's own host: never cut
        self.db = network.add("db")
        self.nats = [network.add(name) for name in NATS_HOSTS]
        self.apis = [network.add(name) for name in ("api1", "api2")]
        self.readmodels = network.add("rm")
        self.workers = [network.add(name) for name in WORKER_HOSTS]
        self.postgres = HostPostgres(self.db, prefix)
        self.roles: dict[tuple[str, str], subprocess.Popen[bytes]] = {}
        self.settings = Settings(
            database_url=self.postgres.url,
            nats_url=",".join(f"nats://{h.address}:{NATS_PORT}" for h in self.nats),
            nats_replicas=3,
            file_store="nats",
            lease_seconds=LEASE_SECONDS,
            work_redrive_seconds=REDRIVE_SECONDS,
            jwt_secret="partition-jwt-secret-of-at-least-32-bytes",
            cookie_secret="partition-cookie-secret-of-at-least-32-bytes",
            log_format="json",
        )

    def log(self, host: Host, role: str) -> Path:
        return self.logs / f"{host.name}-{role}.log"

    def api_url(self, host: Host) -> str:
        return f"http://{host.address}:{API_PORT}"

    def start(self) -> None:
        self.postgres.init()
        self.postgres.start()
        self._start_nats()
        created = subprocess.run(
            self.client.command(
                sys.executable, "-m", "service", "user", "create", "-e",
                "admin@partition.dev", "-p", "secret-password", "--api-token", TOKEN,
            ),
            env=self._env(self.client), capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        assert created.returncode == 0, created.stdout + created.stderr
        for host in self.workers:
            self._role(host, "relay")
            self._role(host, "worker")
        self._role(self.readmodels, "projections")
        for host in self.apis:
            self._role(host, "api")
        for host in self.workers:
            wait_for_log(self.log(host, "relay"), "relay.started", 60)
            wait_for_log(self.log(host, "worker"), "worker.started", 60)
        for host in self.apis:
            self.wait_for_api(host)

    def _start_nats(self) -> None:
        binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
        for host in self.nats:
            routes = ",".join(
                f"nats://{other.address}:{NATS_CLUSTER_PORT}"
                for other in self.nats
                if other is not host
            )
            self.roles[host.name, "nats"] = host.spawn(
                [binary, "-a", host.address, "-p", str(NATS_PORT), "-n", host.name,
                 "-m", str(NATS_MONITOR_PORT), "-js", "-sd",
                 str(self.directory / host.name), "--cluster_name", "partition",
                 "--cluster", f"nats://{host.address}:{NATS_CLUSTER_PORT}",
                 "--routes", routes],
                self.log(host, "nats"),
            )  # fmt: skip
        for host in self.nats:
            until_answers(f"http://{host.address}:{NATS_MONITOR_PORT}/jsz", 30)

    def _env(self, host: Host) -> dict[str, str]:
        stores = ("database_url", "nats_url", "nats_replicas", "file_store")
        others = ("lease_seconds", "work_redrive_seconds", "jwt_secret",
                  "cookie_secret", "log_format")  # fmt: skip
        values = {
            **{name: getattr(self.settings, name) for name in (*stores, *others)},
            "data_dir": str(self.directory / f"{host.name}-data"),
            "host": host.address,
            "port": API_PORT,
            # The partition fix's setting; ignored by a build that lacks it.
            "relay_leadership_seconds": LEADERSHIP_SECONDS,
        }
        env = {f"JOBSTREAM_{key.upper()}": str(value) for key, value in values.items()}
        scrubbed = {
            k: v for k, v in os.environ.items() if not k.startswith("JOBSTREAM_")
        }
        return {**scrubbed, "PYTHONPATH": f"{self.plugins}:{ROOT}", **env}

    def _role(self, host: Host, role: str) -> None:
        self.roles[host.name, role] = host.spawn(
            [sys.executable, "-m", "service", role],
            self.log(host, role),
            self._env(host),
        )

    def wait_for_api(self, host: Host, seconds: float = 60) -> None:
        until_answers(f"{self.api_url(host)}/health", seconds)

    def pid(self, host: Host, role: str) -> int:
        return self.roles[host.name, role].pid

    def remove(self) -> None:
        """Stop the roles, then NATS, then the database; the network goes after."""
        jobstream = [p for (_, role), p in self.roles.items() if role != "nats"]
        nats = [p for (_, role), p in self.roles.items() if role == "nats"]
        for processes in (jobstream, nats):
            _stop(processes)
        self.postgres.remove()  # stops it, deletes its directory
        shutil.rmtree(self.directory, ignore_errors=True)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=5)  # a clean stop; not worth waiting longer
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def until_answers(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer 200 within {seconds} s")
        time.sleep(0.2)


def remove_leftovers() -> None:
    """What a crashed run left: its hosts and processes, then its directories."""
    netns.remove_leftovers()
    for directory in Path(tempfile.gettempdir()).glob(f"{DIRECTORY_PREFIX}*"):
        if netns.stale_tag(directory.name.removeprefix(DIRECTORY_PREFIX)[:6]):
            shutil.rmtree(directory, ignore_errors=True)
