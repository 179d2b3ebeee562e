"""Is NATS reachable? For /health: answered from a cache, each probe short.

A load balancer probes /health often and with a short timeout; a node cut off from
the network makes a TCP connect wait for its whole timeout. So a node is given
PROBE_TIMEOUT_SECONDS, the node that answered last is asked first, the first that
answers ends the probe, and a result is reused for CACHE_SECONDS.
"""

from __future__ import annotations

import threading
import time

from service import positions
from service.settings import nats_servers

PROBE_TIMEOUT_SECONDS = 0.5
CACHE_SECONDS = 1.0


class BrokerProbe:
    def __init__(self, nats_url: str) -> None:
        self._servers = nats_servers(nats_url)
        self._lock = threading.Lock()
        self._state = ""
        self._checked_at = float("-inf")

    def state(self) -> str:
        """Whether a node answers with its INFO line ("ok"); else why none does."""
        with self._lock:
            if time.monotonic() - self._checked_at <= CACHE_SECONDS:
                return self._state
            failures: list[str] = []
            for url in list(self._servers):
                answer = positions.node_state(url, PROBE_TIMEOUT_SECONDS)
                if answer == "ok":
                    self._servers.remove(url)
                    self._servers.insert(0, url)  # asked first next time
                    failures = []
                    break
                failures.append(answer)
            self._state = "; ".join(failures) if failures else "ok"
            self._checked_at = time.monotonic()
            return self._state


_probes: dict[str, BrokerProbe] = {}


def nats_state(nats_url: str) -> str:
    """The cached state of the broker at `nats_url` (one probe per URL per process)."""
    probe = _probes.get(nats_url)
    if probe is None:
        probe = _probes.setdefault(nats_url, BrokerProbe(nats_url))
    return probe.state()
