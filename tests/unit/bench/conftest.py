"""bench/'s scripts, imported for the tests of their pure parts."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench"


def bench_module(name: str) -> Any:
    """bench/ is scripts, not a package: its modules import each other by name."""
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture(scope="module")
def soak() -> Any:
    return bench_module("soak")


@pytest.fixture(scope="module")
def profile_groups() -> Any:
    return bench_module("profile_groups")
