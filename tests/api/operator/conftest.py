"""Operator API fixtures: an export strategy that fails while its source is down."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest

from domain.strategies import JobRun
from service.runtime import Runtime
from tests.api.operator.sse import ServedApp
from tests.support import ScriptedError, ScriptedStrategy


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
