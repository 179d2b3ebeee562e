"""API fixtures: a started app over either backend, users, a scripted strategy."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from domain.users import UserRole
from service import db_gate
from service.http import front_door, hot_create, read_path
from service.http.app import create_app
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.registry import StrategyRegistry
from tests.support import Caller, ScriptedStrategy, new_user


@pytest.fixture
def gate_says(
    settings: Settings, client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> Callable[[Callable[[], str | None]], None]:
    """Make the app's database gate answer `down()` with the given function (PostgreSQL)."""
    assert settings.database_url is not None
    gate = db_gate.gate_on(settings.database_url)
    assert gate is not None  # opened by the app's lifespan

    def says(down: Callable[[], str | None]) -> None:
        monkeypatch.setattr(gate, "down", down)

    return says


@pytest.fixture
def lane_answers(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each request the create lane looked at: True if it answered it."""
    answers: list[bool] = []
    original = hot_create.answer

    async def counted(scope: Any, receive: Any, send: Any) -> Any:
        declined = await original(scope, receive, send)
        answers.append(declined is None)
        return declined

    monkeypatch.setattr(hot_create, "answer", counted)
    return answers


@pytest.fixture
def strategy() -> ScriptedStrategy:
    return ScriptedStrategy()


@pytest.fixture
def runtime(settings: Settings, strategy: ScriptedStrategy) -> Runtime:
    return Runtime(settings, registry=StrategyRegistry([strategy]))


@pytest.fixture
def views_only(settings: Settings) -> Iterator[Runtime]:
    """The read models kept, no jobs run: only the tests' own saves change a row."""
    runtime = Runtime(settings, process_jobs=False)
    runtime.start()
    try:
        yield runtime
    finally:
        runtime.stop()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(runtime)) as test_client:
        yield test_client


@pytest.fixture
def admin(runtime: Runtime, client: TestClient[Any]) -> Caller:
    return new_user(runtime, "admin_user")


@pytest.fixture
def member(runtime: Runtime, client: TestClient[Any]) -> Caller:
    return new_user(runtime, "member-user", UserRole.MEMBER)


@pytest.fixture
def router_only(runtime: Runtime, client: TestClient[Any]) -> Iterator[TestClient[Any]]:
    """The same runtime's API without the lanes: every request through the router."""
    app = create_app(runtime, manage_runtime=False, hot_reads=False)
    with TestClient(app=app) as router_client:
        yield router_client


@pytest.fixture
def metrics(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """The labels of each request metric the front door records."""
    recorded: list[tuple[Any, ...]] = []

    def record(method: str, template: str, status: int, elapsed: float) -> None:
        recorded.append((method, template, status))

    monkeypatch.setattr(front_door, "record_request", record)
    return recorded


@pytest.fixture
def handler_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each read the batch-jobs handlers make (the lane reads without them)."""
    reads: list[str] = []
    original = read_path.read_when_current

    async def counted(jobs: Any, caller_id: str, read: Callable[[], Any]) -> Any:
        reads.append("read")
        return await original(jobs, caller_id, read)

    monkeypatch.setattr("service.http.batch_jobs.read_when_current", counted)
    return reads
