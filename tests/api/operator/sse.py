"""A served app on a loopback port (as `serve` runs it) and an SSE client for it."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from litestar import Litestar

from service.commandline import http_server
from service.http.app import create_app
from service.runtime import Runtime
from tests.support import FINAL, Caller


class ServedApp:
    """`create_app` behind the server `serve` builds, in a thread, on a free port."""

    def __init__(self, runtime: Runtime) -> None:
        self.app: Litestar = create_app(runtime)
        self.sock = http_server.bind("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = http_server.build_server(self.app, 10.0)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            assert self.thread.is_alive(), "uvicorn stopped"
            time.sleep(0.02)

    def stop(self) -> None:
        """As SIGTERM would: the server stops, and tells the app first."""
        self.server.handle_exit(signal.SIGTERM, None)
        self.thread.join(timeout=20)
        self.sock.close()


@dataclass(frozen=True)
class Message:
    id: int
    event: str
    data: dict[str, Any]


@dataclass
class FeedStream:
    """An open feed, read on the test's thread (a stall fails by read timeout)."""

    response: httpx.Response
    comments: list[str] = field(default_factory=list)
    _lines: Iterator[str] | None = None

    def next(self) -> Message:
        if self._lines is None:
            self._lines = self.response.iter_lines()
        fields: dict[str, str] = {}
        for line in self._lines:
            if line == "":
                if fields:
                    return Message(
                        int(fields["id"]), fields["event"], json.loads(fields["data"])
                    )
                continue
            if line.startswith(":"):
                self.comments.append(line)
                continue
            name, _, value = line.partition(": ")
            fields[name] = value
        raise EOFError("the feed ended")

    def until(self, done: Callable[[Message], bool]) -> list[Message]:
        """Every message up to and including the first that is `done`."""
        read: list[Message] = []
        while True:
            read.append(self.next())
            if done(read[-1]):
                return read


@contextmanager
def open_feed(
    url: str, caller: Caller, params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Iterator[FeedStream]:  # fmt: skip
    with (
        httpx.Client(timeout=httpx.Timeout(20.0)) as client,
        client.stream(
            "GET", f"{url}/admin/jobstream/feed", params=params,
            headers={**caller.headers, **(headers or {})},
        ) as response,
    ):  # fmt: skip
        yield FeedStream(response)


def completed(job_id: str) -> Callable[[Message], bool]:
    return lambda m: m.data["id"] == job_id and m.data["status"] in FINAL


def create_job(url: str, caller: Caller, context: dict[str, Any]) -> str:
    response = httpx.post(
        f"{url}/admin/batch-jobs",
        json={"type": "product-export", "context": context},
        headers=caller.headers,
    )
    assert response.status_code == 201, response.text
    job_id: str = response.json()["batch_job"]["id"]
    return job_id


def wait_until_final(url: str, caller: Caller, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while True:
        response = httpx.get(f"{url}/admin/batch-jobs/{job_id}", headers=caller.headers)
        job: dict[str, Any] = response.json()["batch_job"]
        if job["status"] in FINAL:
            return job
        assert time.monotonic() < deadline, f"{job_id} stuck in {job['status']}"
        time.sleep(0.02)
