"""One bootstrap per process: each role, and `serve` with every role, builds one app."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

import pytest
from litestar.testing import TestClient

from service.__main__ import http_app
from service.application import Jobstream
from service.bootstrap.process import Bootstrap
from service.relay_process import running_relay
from service.strategies.registry import StrategyRegistry
from service.worker_process import running_worker
from tests.support import ScriptedStrategy, new_user, wait_for_status

if TYPE_CHECKING:
    from service.runtime import Runtime
    from service.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def apps_built(monkeypatch: pytest.MonkeyPatch) -> list[Jobstream]:
    """Every Jobstream application constructed in this process, however it was."""
    built: list[Jobstream] = []
    original = Jobstream.__init__

    def counting(self: Jobstream, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Jobstream, "__init__", counting)
    return built


def test_serve_with_nats_runs_a_job_on_one_application(
    nats_settings: Settings, apps_built: list[Jobstream]
) -> None:
    registry = StrategyRegistry([ScriptedStrategy()])
    bootstrap = Bootstrap(nats_settings, registry=registry)
    with TestClient(app=http_app(bootstrap, roles="serve")) as client:
        admin = new_user(cast("Runtime", client.app.state.runtime))
        created = client.post(
            "/admin/batch-jobs",
            json={"type": "product-export", "context": {}, "dry_run": False},
            headers=admin.headers,
        )
        assert created.status_code == 201, created.text
        # Relayed over NATS, run by the process's own worker.
        done = wait_for_status(client, admin, created.json()["batch_job"]["id"])

    assert done["status"] == "completed"
    assert len(apps_built) == 1
    assert bootstrap.built["Jobstream"] == 1


async def test_the_relay_and_the_worker_alone_each_build_one_application(
    nats_settings: Settings, apps_built: list[Jobstream]
) -> None:
    async with running_relay(nats_settings):
        relay_apps = len(apps_built)
    async with running_worker(nats_settings, StrategyRegistry([ScriptedStrategy()])):
        await asyncio.sleep(0)

    assert relay_apps == 1
    assert len(apps_built) == 2  # the relay's, then the worker's


def test_a_closed_bootstrap_builds_nothing_more(settings: Settings) -> None:
    bootstrap = Bootstrap(settings, registry=StrategyRegistry())
    assert bootstrap.app is bootstrap.app
    bootstrap.close()

    with pytest.raises(RuntimeError, match="bootstrap closed"):
        _ = bootstrap.files
    assert bootstrap.built["Jobstream"] == 1
