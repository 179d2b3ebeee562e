"""Operator API fixtures: an idle runtime (jobs stay where seeded) and users by role."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from domain.users import UserRole
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.registry import StrategyRegistry
from tests.support import Caller, ScriptedStrategy, new_user


@pytest.fixture
def runtime(settings: Settings, strategy: ScriptedStrategy) -> Runtime:
    # No worker: a seeded job keeps the status it was given.
    return Runtime(settings, registry=StrategyRegistry([strategy]), process_jobs=False)


@pytest.fixture
def other_member(runtime: Runtime, client: TestClient[Any]) -> Caller:
    return new_user(runtime, "other-member", UserRole.MEMBER)


@pytest.fixture
def developer(runtime: Runtime, client: TestClient[Any]) -> Caller:
    return new_user(runtime, "developer", UserRole.DEVELOPER)
