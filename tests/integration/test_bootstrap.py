"""One bootstrap per process: each role, and `serve` with every role, builds one app."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any, cast

import pytest
from litestar.testing import TestClient

from service.__main__ import http_app
from service.all_roles import running_jobs
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


def test_serve_with_nats_runs_a_job_in_its_jobs_process_one_application_each(
    nats_settings: Settings, apps_built: list[Jobstream]
) -> None:
    registry = StrategyRegistry([ScriptedStrategy()])
    # `serve`'s two processes, as serve() builds them: the API's and the jobs'.
    api = Bootstrap(nats_settings, registry=registry, other_writers=True)
    jobs = Bootstrap(
        nats_settings, registry=registry, project=False, other_writers=True
    )
    stop = threading.Event()

    async def jobs_process() -> None:
        await asyncio.to_thread(jobs.read_models.start)
        async with running_jobs(jobs):
            await asyncio.to_thread(stop.wait)

    beside = threading.Thread(target=asyncio.run, args=(jobs_process(),))
    with TestClient(app=http_app(api, roles="serve")) as client:
        beside.start()
        try:
            admin = new_user(cast("Runtime", client.app.state.runtime))
            created = client.post(
                "/admin/batch-jobs",
                json={"type": "product-export", "context": {}, "dry_run": False},
                headers=admin.headers,
            )
            assert created.status_code == 201, created.text
            # Relayed over NATS, run by the jobs process's worker.
            done = wait_for_status(client, admin, created.json()["batch_job"]["id"])
        finally:
            stop.set()
            beside.join(30)
    jobs.close()

    assert done["status"] == "completed"
    assert len(apps_built) == 2
    assert api.built["Jobstream"] == 1
    assert jobs.built["Jobstream"] == 1


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
