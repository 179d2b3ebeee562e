"""API fixtures: a started app over either backend, users, a scripted strategy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from domain.users import UserRole
from service.http.app import create_app
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.registry import StrategyRegistry
from tests.support import Caller, ScriptedStrategy, new_user


@pytest.fixture
def strategy() -> ScriptedStrategy:
    return ScriptedStrategy()


@pytest.fixture
def runtime(settings: Settings, strategy: ScriptedStrategy) -> Runtime:
    return Runtime(settings, registry=StrategyRegistry([strategy]))


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
