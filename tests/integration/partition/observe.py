"""What the partition tests observe of the roles: their logs, NATS's view of them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx
import nats
from nats.js.errors import NotFoundError

from tests.integration.partition.checks import JETSTREAM_BUSY, until
from tests.integration.partition.topology import NATS_MONITOR_PORT

if TYPE_CHECKING:
    from pathlib import Path

    from service.settings import Settings
    from tests.integration.partition.netns import Host
    from tests.integration.partition.topology import Deployment


def log_lines(log: Path) -> list[dict[str, Any]]:
    lines = []
    for line in log.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "event" in record:
            lines.append(record)
    return lines


def logged_since(log: Path, event: str, since: str) -> str | None:
    """The ISO timestamp `event` was first logged at or after `since`, if it was."""
    return next(
        (
            stamp
            for line in log_lines(log)
            if line["event"] == event and (stamp := str(line.get("timestamp"))) >= since
        ),
        None,
    )


def leads(log: Path) -> bool:
    """The relay's last word on leadership is that it leads."""
    said = [
        line["event"]
        for line in log_lines(log)
        if line["event"]
        in {"relay.leading", "relay.leadership_lost", "relay.standing_by"}
    ]
    return bool(said) and said[-1] == "relay.leading"


def leading_relay(deployment: Deployment) -> Host:
    """The worker host whose relay says, last, that it leads."""

    def leader() -> Host | None:
        logs = [(host, deployment.log(host, "relay")) for host in deployment.workers]
        return next((host for host, log in logs if leads(log)), None)

    return until(leader, 30, "a relay that says it leads")


def relay_node(nats_hosts: list[Host], relay: Host) -> Host | None:
    """The NATS node the relay on host `relay` is connected to, from each node's connz."""
    for node in nats_hosts:
        try:
            connz = httpx.get(
                f"http://{node.address}:{NATS_MONITOR_PORT}/connz", timeout=1
            ).json()
        except httpx.HTTPError:
            continue
        for connection in connz.get("connections") or []:
            if (
                connection.get("name") == "jobstream-relay"
                and connection.get("ip") == relay.address
            ):
                return node
    return None


async def stream_leader(settings: Settings, stream: str) -> str | None:
    """The name of the NATS node that leads `stream`'s replicas; None: not known yet."""
    assert settings.nats_url is not None
    connection = await nats.connect(settings.nats_url.split(","))
    try:
        info = await connection.jetstream().stream_info(stream)
    except (NotFoundError, *JETSTREAM_BUSY):
        return None  # not made yet, or JetStream busy (electing): asked again
    finally:
        await connection.close()
    return info.cluster.leader if info.cluster is not None else None
