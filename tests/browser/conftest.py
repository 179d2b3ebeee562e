"""A real `jobstream serve` and Debian's Chromium driven by Playwright.

The server runs as a subprocess on a free port with a data directory of its own; the
browser is the system's Chromium (`.ci/run` installs it with apt): Playwright's own
browser builds cannot be downloaded here. Each test gets a fresh browser context
(its own cookies); a script error on any page fails the test that caused it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.conftest import make_settings
from tests.integration.conftest import free_port
from tests.integration.processes import ROOT, environment

SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The machine may be busy: waits are generous, and still end.
expect.set_options(timeout=20_000)
EMAIL, PASSWORD, TOKEN = "operator@example.com", "supersecret", "browser-token"


def chromium_path() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@dataclass(frozen=True)
class Server:
    url: str
    directory: Path

    def api(self) -> httpx.Client:
        """The admin's API client (API token)."""
        return httpx.Client(
            base_url=self.url, headers={"x-medusa-access-token": TOKEN}, timeout=30
        )


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the server did not become healthy")


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("console")
    port = free_port()
    env = {**environment(make_settings(directory)), "JOBSTREAM_PORT": str(port)}
    subprocess.run(
        [sys.executable, "-m", "service", "user", "create", "--email", EMAIL,
         "--password", PASSWORD, "--api-token", TOKEN],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    log = directory / "serve.log"
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "serve"],
            env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield Server(url, directory)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# Package-scoped, not session-scoped: Playwright's sync API keeps an event loop running
# in the main thread while it is started, and every later test that runs its own loop
# (asyncio.run, pytest-asyncio) would fail with "another loop is running".
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    if executable is None:
        pytest.skip(
            "no Chromium on this machine: `apt-get install chromium` (.ci/run does)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def context(browser: Browser, server: Server) -> Iterator[BrowserContext]:
    made = browser.new_context(
        base_url=server.url,
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
    )
    made.set_default_timeout(15_000)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    opened = context.new_page()
    errors: list[Any] = []

    def record(error: Any) -> None:
        errors.append(error)

    opened.on("pageerror", record)
    yield opened
    assert errors == [], f"script errors on the page: {errors}"


@pytest.fixture
def logged_in(page: Page) -> Page:
    """The page of a browser holding the admin's session cookie."""
    answer = page.request.post(
        "/admin/auth", data={"email": EMAIL, "password": PASSWORD}
    )
    assert answer.status == 200
    return page


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
