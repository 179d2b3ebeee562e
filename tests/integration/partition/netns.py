"""Hosts as network namespaces on one bridge: cut one off, heal it, remove them all.

Each host is a namespace with one veth link into a bridge that lives in a namespace of
its own; every address is inside 10.231.14.0/24 and inside the namespaces made here.
`cut` sets the link's bridge end down: a pulled cable. The host's packets are dropped
silently and the others' packets to it too, so TCP waits and retries as it would on a
real partition (setting an interface admin-down instead makes the kernel refuse
connects at once, which no partition does).

Every name starts with `PREFIX` and the creating process's id, so a later run removes
what a crashed run left behind, and leaves a running run's hosts alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PREFIX = "jsn"
SUBNET = "10.231.14"  # .1 is unused; hosts from .10 on
CLONE_NEWNET = 0x40000000


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", *args], check=check, capture_output=True, text=True, timeout=30
    )


def permitted() -> str | None:
    """None when namespaces can be made here, else why not (the skip reason).

    As root without `ip` it raises: a machine that should run these tests cannot.
    """
    if os.geteuid() != 0:
        return "network namespaces need root (CI runs as root)"
    if shutil.which("ip") is None:
        raise RuntimeError("`ip` is missing: apt-get install iproute2 (.ci/run does)")
    probe = f"{PREFIX}probe{os.getpid():x}"
    made = ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"`ip netns add` is not permitted here: {made.stderr.strip()}"
    ip("netns", "delete", probe, check=False)
    return None


@dataclass
class Host:
    name: str
    namespace: str
    address: str
    link: str  # the veth end in the bridge's namespace: what `cut` pulls
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def command(self, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.namespace, *argv]

    def spawn(
        self, argv: list[str], log: Path, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """A process on this host (its own id: `ip netns exec` execs the command)."""
        with log.open("ab") as sink:
            process = subprocess.Popen(
                self.command(*argv), env=env, stdout=sink, stderr=subprocess.STDOUT
            )
        self.processes.append(process)
        return process


class Network:
    """One bridge and the hosts on it, named after this process."""

    def __init__(self) -> None:
        self.tag = f"{os.getpid():06x}"
        self.bridge = self._namespace("br")
        self.hosts: dict[str, Host] = {}
        ip("netns", "add", self.bridge)
        self._in(self.bridge, "link", "add", "br0", "type", "bridge")
        self._in(self.bridge, "link", "set", "br0", "up")

    def _namespace(self, name: str) -> str:
        return f"{PREFIX}{self.tag}-{name}"

    @staticmethod
    def _in(namespace: str, *args: str) -> None:
        ip("-n", namespace, *args)

    def add(self, name: str) -> Host:
        index = len(self.hosts) + 10
        namespace = self._namespace(name)
        inner, outer = f"{PREFIX}{self.tag}{index}a", f"{PREFIX}{self.tag}{index}b"
        ip("netns", "add", namespace)
        ip("link", "add", inner, "type", "veth", "peer", "name", outer)
        ip("link", "set", inner, "netns", namespace)
        ip("link", "set", outer, "netns", self.bridge)
        self._in(self.bridge, "link", "set", outer, "master", "br0", "up")
        address = f"{SUBNET}.{index}"
        self._in(namespace, "addr", "add", f"{address}/24", "dev", inner)
        self._in(namespace, "link", "set", inner, "up")
        self._in(namespace, "link", "set", "lo", "up")
        host = Host(name, namespace, address, outer)
        self.hosts[name] = host
        return host

    def cut(self, host: Host) -> None:
        self._in(self.bridge, "link", "set", host.link, "down")

    def heal(self, host: Host) -> None:
        self._in(self.bridge, "link", "set", host.link, "up")

    def remove(self) -> None:
        """Every process, namespace and link made here; safe to call more than once."""
        for host in self.hosts.values():
            for process in host.processes:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=10)
        for namespace in [*(host.namespace for host in self.hosts.values())]:
            _remove_namespace(namespace)
        _remove_namespace(self.bridge)  # its links go with it, and their peers


def _remove_namespace(namespace: str) -> None:
    """Kill what still runs in it (a daemon such as the postmaster), then delete it."""
    listed = ip("netns", "pids", namespace, check=False)
    for pid in listed.stdout.split():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)
    ip("netns", "delete", namespace, check=False)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers() -> list[str]:
    """Namespaces and links of runs whose process is gone (a crashed run's)."""
    removed = []
    for line in ip("netns", "list", check=False).stdout.splitlines():
        namespace = line.split()[0] if line.split() else ""
        tag = namespace[len(PREFIX) : len(PREFIX) + 6]
        if namespace.startswith(PREFIX) and stale_tag(tag):
            _remove_namespace(namespace)
            removed.append(namespace)
    for line in ip("-o", "link", "show", check=False).stdout.splitlines():
        name = line.split(":")[1].strip().split("@")[0] if ":" in line else ""
        if name.startswith(PREFIX) and stale_tag(name[len(PREFIX) : len(PREFIX) + 6]):
            ip("link", "delete", name, check=False)  # made, not yet moved: crashed
            removed.append(name)
    return removed


def stale_tag(tag: str) -> bool:
    """The tag names a run (its process id) that is gone."""
    try:
        pid = int(tag, 16)
    except ValueError:
        return False
    return pid != os.getpid() and not _alive(pid)


@contextlib.contextmanager
def inside(host: Host) -> Iterator[None]:
    """This thread in the host's namespace: every socket it opens is the host's.

    Threads started meanwhile inherit it (a pool's workers too); the thread returns to
    its own namespace on exit. Subprocesses join theirs with `ip netns exec`.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{host.namespace}", os.O_RDONLY)
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns into " + host.namespace)
        try:
            yield
        finally:
            if libc.setns(own, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(target)
        os.close(own)
