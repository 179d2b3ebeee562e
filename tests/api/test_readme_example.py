"""The README's examples, run as written: the quick start's shell lines, the strategy."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from service.http.app import create_app
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.registry import StrategyRegistry, StrategyServices
from tests.integration.conftest import free_port, wait_for_port
from tests.support import new_user, wait_for_status

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"
QUICK_START = "# Quick start, in a second shell from the repository root.\n"


def shell_block(marker: str) -> str:
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.DOTALL)
    [source] = [block for block in blocks if block.startswith(marker)]
    return str(source)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """`jobstream serve` as `make run` starts it, in a directory laid out as the repo's.

    The directory has the README's `examples/` and a `.venv/bin/jobstream` that runs
    this checkout's code; the server stops on every exit path.
    """
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    command = tmp_path / ".venv" / "bin" / "jobstream"
    command.parent.mkdir(parents=True)
    command.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m service "$@"\n')
    command.chmod(0o755)
    port = free_port()
    # The server and the script's `jobstream user create` see the same variables.
    environment = {
        **os.environ, "JOBSTREAM_PORT": str(port), "JOBSTREAM_HTTP_WORKERS": "1",
        "JOBSTREAM_LOG_FORMAT": "json", "PYTHONPATH": str(ROOT),
    }  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "service", "serve"], cwd=tmp_path, env=environment,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port, timeout=60)
        yield tmp_path, environment
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_the_readme_quick_start_runs_as_written(
    served: tuple[Path, dict[str, str]],
) -> None:
    """Every line as printed, under `bash -u`: a variable used before it is set fails."""
    directory, environment = served
    port = environment["JOBSTREAM_PORT"]
    script = shell_block(QUICK_START).replace("127.0.0.1:9000", f"127.0.0.1:{port}")

    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=directory, env=environment,
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line for line in lines if line in {"pre_processed", "completed"}] == [
        "pre_processed", "completed", "completed",
    ]  # fmt: skip
    assert "There will be 3 products created (0  updated)." in done.stdout
    assert "3" in lines  # the products listed after the import
    exported = (directory / "export.csv").read_bytes().decode()
    header, _, rows = exported.partition("\r\n")  # Medusa's line ends
    assert "Product Handle" in header
    handles = [line.split(";")[1] for line in rows.split("\r\n") if line]
    assert sorted(handles).count("classic-tee") == 4  # one line per variant
    assert len(handles) == 7
    assert header[:100] in done.stdout  # `head -c 300` showed it


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
