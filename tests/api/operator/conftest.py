"""Operator API fixtures: a store per test, an idle runtime, users by role, and an
export strategy that fails while its source is down (an outage to retry)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from litestar.testing import TestClient

from domain.strategies import JobRun
from domain.users import UserRole
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.registry import StrategyRegistry
from tests.api.operator.sse import ServedApp
from tests.conftest import create_database, drop_database, make_settings
from tests.support import Caller, ScriptedError, ScriptedStrategy, new_user


@pytest.fixture(
    params=["embedded", pytest.param("postgres", marks=pytest.mark.integration)]
)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Both backends, as tests/conftest.py's; PostgreSQL in a database of the test's own.

    An admin's list shows every job in the store: jobs of other tests must not be.
    """
    if request.param == "embedded":
        yield make_settings(tmp_path)
        return
    name = f"jobstream_operator_{uuid.uuid4().hex[:12]}"
    url = create_database(name)
    try:
        yield make_settings(tmp_path, url)
    finally:
        drop_database(name)


@pytest.fixture
def processing() -> bool:
    """No worker by default: a seeded job keeps the status it was given."""
    return False


@pytest.fixture
def runtime(
    settings: Settings, strategy: ScriptedStrategy, processing: bool
) -> Runtime:
    return Runtime(
        settings, registry=StrategyRegistry([strategy]), process_jobs=processing
    )


@pytest.fixture
def other_member(runtime: Runtime, client: TestClient[Any]) -> Caller:
    return new_user(runtime, "other-member", UserRole.MEMBER)


@pytest.fixture
def developer(runtime: Runtime, client: TestClient[Any]) -> Caller:
    return new_user(runtime, "developer", UserRole.DEVELOPER)


class FlakyExport(ScriptedStrategy):
    """The scripted export, failing every attempt while `down` (an outage to retry)."""

    identifier: ClassVar[str] = "flaky-export-strategy"

    def __init__(self) -> None:
        super().__init__("product-export")
        self.down = False

    def process_job(self, run: JobRun) -> None:
        if self.down:
            raise ScriptedError("the catalog database is down")
        super().process_job(run)


@pytest.fixture
def strategy() -> FlakyExport:
    return FlakyExport()


@pytest.fixture
def served(runtime: Runtime) -> Iterator[ServedApp]:
    served = ServedApp(runtime)
    served.start()
    try:
        yield served
    finally:
        served.stop()
