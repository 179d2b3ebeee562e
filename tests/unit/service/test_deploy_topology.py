"""deploy/compose.yaml runs the cluster the fault tests run: 3 nodes, R3, all listed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from service.settings import load_settings, nats_servers

COMPOSE = Path(__file__).parents[3] / "deploy" / "compose.yaml"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def flag(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_three_nats_nodes_each_with_its_own_store_routed_to_the_others() -> None:
    services = compose()["services"]
    nodes = sorted(name for name in services if name.startswith("nats-"))
    assert nodes == ["nats-1", "nats-2", "nats-3"]
    stores = set()
    for node in nodes:
        command = services[node]["command"]
        assert "-js" in command
        assert flag(command, "-n") == node
        assert flag(command, "--cluster_name") == "jobstream"
        routes = set(flag(command, "--routes").split(","))
        assert routes == {f"nats://{other}:6222" for other in nodes if other != node}
        (volume,) = services[node]["volumes"]
        assert volume.endswith(":/data") and flag(command, "-sd") == "/data"
        stores.add(volume)
    assert len(stores) == 3


def test_every_role_lists_every_node_and_replicates_stream_and_files_three_times() -> (
    None
):
    services = compose()["services"]
    roles = [name for name in services if name.split("-")[0] in
             {"api", "projections", "relay", "worker"}]  # fmt: skip
    assert roles
    for role in roles:
        environment = {
            key: str(value) for key, value in services[role]["environment"].items()
        }
        settings = load_settings(environment)
        assert settings.nats_url is not None
        assert nats_servers(settings.nats_url) == [
            "nats://nats-1:4222", "nats://nats-2:4222", "nats://nats-3:4222"
        ]  # fmt: skip
        assert settings.nats_replicas == 3  # the stream and the file bucket
        assert settings.file_store == "nats"
        assert set(services[role]["depends_on"]) >= {"nats-1", "nats-2", "nats-3"}
