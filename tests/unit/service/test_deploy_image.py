"""deploy/Dockerfile, .dockerignore and the lock files, checked without a Docker engine."""

from __future__ import annotations

import http.server
import json
import re
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).parents[3]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;@]+)$")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip().removesuffix("\\").strip() + " "
        if not line.rstrip().endswith("\\"):
            logical.append(pending.strip())
            pending = ""
    assert not pending, "the last instruction ends with a continuation"
    return [(text.split(" ", 1)[0], text.split(" ", 1)[1]) for text in logical]


def healthcheck_command() -> list[str]:
    (arguments,) = [args for name, args in instructions() if name == "HEALTHCHECK"]
    options, _, command = arguments.partition(" CMD ")
    assert "--timeout=" in options
    exec_form: list[str] = json.loads(command)  # exec form: no shell in the check
    return exec_form


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        if not line or line.startswith(("#", "-r ")):
            continue
        match = PIN.match(line)
        assert match, f"{path.name}: not an exact pin: {line!r}"
        found[normalized(match[1])] = match[2]
    return found


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/health" else 404)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[http.server.HTTPServer]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    _Health.status = 200


def run_healthcheck(port: int) -> int:
    program, *arguments = healthcheck_command()
    assert program == "python"  # the image's interpreter; no curl in the slim image
    env = {"JOBSTREAM_PORT": str(port)}
    return subprocess.run(
        [sys.executable, *arguments],
        env=env,
        capture_output=True,
        timeout=30,
        check=False,
    ).returncode


def test_healthcheck_passes_while_health_answers_200(health_server) -> None:
    assert run_healthcheck(health_server.server_port) == 0


def test_healthcheck_fails_on_503_and_when_nothing_listens(health_server) -> None:
    _Health.status = 503
    assert run_healthcheck(health_server.server_port) != 0
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        free_port = unused.getsockname()[1]
    assert run_healthcheck(free_port) != 0


def test_image_installs_the_runtime_lock_then_the_project_without_dependencies() -> (
    None
):
    runs = [args for name, args in instructions() if name == "RUN"]
    lock_install = next(
        i for i, run in enumerate(runs) if "-r requirements.lock" in run
    )
    project_install = next(i for i, run in enumerate(runs) if "--no-deps ." in run)
    assert lock_install < project_install
    assert "pip check" in runs[project_install]


def test_every_copied_path_exists_and_is_in_the_build_context() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "var", ".pytest_cache", ".mypy_cache"} <= ignored
    copies = [args.split()[:-1] for name, args in instructions() if name == "COPY"]
    sources = [source for sources in copies for source in sources]
    assert "requirements.lock" in sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert source not in ignored, source


def test_the_locks_pin_every_declared_dependency_once() -> None:
    runtime = pins(ROOT / "requirements.lock")
    dev = pins(ROOT / "requirements-dev.lock")
    assert "-r requirements.lock" in (ROOT / "requirements-dev.lock").read_text()
    assert not runtime.keys() & dev.keys()  # one version of each package
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def names(requirements: list[str]) -> set[str]:
        return {normalized(re.split(r"[\[<>=!~;, ]", r)[0]) for r in requirements}

    assert names(project["dependencies"]) <= runtime.keys()
    assert names(project["optional-dependencies"]["dev"]) <= runtime.keys() | dev.keys()
    assert "jobstream" not in runtime.keys() | dev.keys()


def test_roles_without_http_turn_the_image_healthcheck_off() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    for name, service in compose["services"].items():
        role = name.split("-")[0]
        if role in {"relay", "worker", "projections"}:
            assert service["healthcheck"] == {"disable": True}, name
        elif role == "api":
            assert "/health" in " ".join(service["healthcheck"]["test"]), name
