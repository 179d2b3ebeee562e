"""One deployment across network namespaces per test module, removed on every exit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.application import Jobstream
from service.bootstrap.stores import build_app
from tests.integration.partition import netns, topology
from tests.integration.partition.topology import Deployment


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Hosts, database, NATS cluster and roles; the test thread is on the client host.

    Runs only as root (CI does): anywhere else it skips, saying so.
    """
    reason = netns.permitted()
    if reason is not None:
        pytest.skip(reason)
    topology.remove_leftovers()
    network = netns.Network()
    try:
        deployment = Deployment(network, tmp_path_factory.mktemp("partition-logs"))
        try:
            with netns.inside(deployment.client):
                deployment.start()
                yield deployment
        finally:
            deployment.remove()
    finally:
        network.remove()


@pytest.fixture(scope="module")
def store(deployment: Deployment) -> Iterator[Jobstream]:
    """The event store, read from the client host: the truth the checks compare."""
    app = build_app(deployment.settings)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture(autouse=True)
def healed(deployment: Deployment) -> Iterator[None]:
    """Each test starts and ends with every host on the network."""
    yield
    for host in deployment.network.hosts.values():
        deployment.network.heal(host)
