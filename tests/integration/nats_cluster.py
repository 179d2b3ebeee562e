"""A 3-node NATS JetStream cluster on loopback ports, each node with its own store."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import time
from typing import TYPE_CHECKING

import nats

from tests.integration.conftest import free_port, wait_for_port

if TYPE_CHECKING:
    from pathlib import Path

CLUSTER = "jobstream-test"


class NatsNode:
    def __init__(self, name: str, store: Path) -> None:
        self.name, self.store = name, store
        self.port, self.cluster_port = free_port(), free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, routes: list[str]) -> None:
        binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
        self.process = subprocess.Popen(
            [binary, "-a", "127.0.0.1", "-p", str(self.port), "-n", self.name,
             "-js", "-sd", str(self.store), "--cluster_name", CLUSTER,
             "--cluster", f"nats://127.0.0.1:{self.cluster_port}",
             "--routes", ",".join(routes)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def kill(self) -> None:
        """SIGKILL: no goodbye to the clients or to the other nodes."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None


class NatsCluster:
    def __init__(self, directory: Path, size: int = 3) -> None:
        self.nodes = [
            NatsNode(f"n{i}", directory / f"n{i}") for i in range(1, size + 1)
        ]

    @property
    def url(self) -> str:
        """JOBSTREAM_NATS_URL: every node, comma-separated."""
        return ",".join(node.url for node in self.nodes)

    def node(self, name: str) -> NatsNode:
        return next(node for node in self.nodes if node.name == name)

    def start(self, timeout: float = 30.0) -> None:
        for node in self.nodes:
            routes = [
                f"nats://127.0.0.1:{other.cluster_port}"
                for other in self.nodes
                if other is not node
            ]
            node.start(routes)
        for node in self.nodes:
            wait_for_port(node.port)
        asyncio.run(self._wait_for_jetstream(timeout))

    async def _wait_for_jetstream(self, seconds: float) -> None:
        """Until the JetStream meta leader is elected: the API answers."""
        deadline = time.monotonic() + seconds
        nc = await nats.connect([node.url for node in self.nodes])
        try:
            while True:
                try:
                    await nc.jetstream().account_info()
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.2)
                else:
                    return
        finally:
            await nc.close()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
