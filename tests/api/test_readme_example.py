"""The README's strategy example, run as written: extracted, registered, driven."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from service.http.app import create_app
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.registry import StrategyRegistry, StrategyServices
from tests.support import new_user, wait_for_status

README = Path(__file__).parents[2] / "README.md"


def readme_module(marker: str) -> types.ModuleType:
    """The README's python block whose first line is `marker`, imported as a module."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    [source] = [block for block in blocks if block.startswith(marker)]
    module = types.ModuleType("readme_example")
    exec(compile(source, str(README), "exec"), module.__dict__)  # noqa: S102 - our own README
    return module


def test_the_readme_strategy_runs_a_job(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = readme_module("# my_strategies/echo.py")
    monkeypatch.setitem(sys.modules, "readme_example", example)
    runtime = Runtime(settings, registry=StrategyRegistry())
    runtime.registry.register(
        example.make_echo(
            StrategyServices(
                runtime.app, settings, runtime.files, lambda: runtime.catalog_reads
            )
        )
    )

    with TestClient(app=create_app(runtime)) as client:
        admin = new_user(runtime)
        created = client.post(
            "/admin/batch-jobs",
            json={"type": "echo", "context": {"hello": "world"}},
            headers=admin.headers,
        )
        assert created.status_code == 201, created.text
        done: dict[str, Any] = wait_for_status(
            client, admin, created.json()["batch_job"]["id"]
        )

    assert done["status"] == "completed"
    assert done["result"] == {"echo": {"hello": "world"}}
