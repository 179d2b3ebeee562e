"""A served process drops clients that trickle or bloat a request's head.

`jobstream serve` runs for real (uvicorn with the header-deadline protocol) and raw
sockets play the slow client. The documented bound: a connection whose request line
and headers are not complete JOBSTREAM_HEADER_TIMEOUT_SECONDS after it opened (or
after its request's first byte) gets a 408 and is closed.
"""

from __future__ import annotations

import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from service.http.header_deadline import MAX_HEAD_BYTES
from tests.conftest import make_settings
from tests.integration.conftest import free_port
from tests.integration.processes import environment

HEADER_TIMEOUT = 1.0
SLACK = 1.5  # event loop and scheduling on a loaded machine
HEAD = b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 40 + b"\r\n\r\n"


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """`jobstream serve` on the embedded backend, header timeout 1 s."""
    directory = tmp_path_factory.mktemp("serve")
    settings = make_settings(directory)
    port = free_port()
    env = {
        **environment(settings),
        "JOBSTREAM_PORT": str(port),
        "JOBSTREAM_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
    }
    with (directory / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "serve"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_until_healthy(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


def _wait_until_healthy(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "serve exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("serve did not become healthy")


def _closed_by_server(conn: socket.socket) -> bytes | None:
    """What the server sent before closing, or None while the connection is open."""
    readable, _, _ = select.select([conn], [], [], 0)
    if not readable:
        return None
    received = b""
    try:
        while chunk := conn.recv(4096):
            received += chunk
    except ConnectionResetError:
        # The byte sent as the server closed made its kernel answer with a reset,
        # which may discard the 408 still unread here: dropped all the same.
        pass
    return received


def test_a_client_trickling_its_headers_is_dropped_within_the_timeout(
    port: int,
) -> None:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        opened = time.monotonic()
        answer = None
        for byte in HEAD:  # one byte every 0.5 s: the head would take 30 s
            try:
                conn.sendall(bytes([byte]))
            except OSError:  # reset: the server is gone
                answer = b""
                break
            time.sleep(0.5)
            answer = _closed_by_server(conn)
            if answer is not None:
                break
        held = time.monotonic() - opened

    assert answer is not None, "the slow client kept its connection"
    # A 408, or a reset that overtook it (test_a_connection_that_sends_nothing_is_closed
    # sees the 408 itself, with no byte of the client's racing the close).
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408 ")
    assert held < HEADER_TIMEOUT + 0.5 + SLACK


def test_a_connection_that_sends_nothing_is_closed(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        opened = time.monotonic()
        conn.settimeout(HEADER_TIMEOUT + SLACK + 5)
        answer = conn.recv(4096)
        held = time.monotonic() - opened

    assert answer.startswith(b"HTTP/1.1 408 ")
    assert held < HEADER_TIMEOUT + SLACK


def test_an_oversized_head_is_refused(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.settimeout(5)
        conn.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
        try:
            for _ in range(MAX_HEAD_BYTES // 1000 + 2):
                conn.sendall(b"X-Pad: " + b"p" * 1000 + b"\r\n")
        except OSError:
            pass  # the server closed while we were still sending
        answer = conn.recv(4096)

    assert answer.startswith(b"HTTP/1.1 431 ")


def test_prompt_clients_are_served_on_a_kept_alive_connection(port: int) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        first = client.get("/health")
        time.sleep(HEADER_TIMEOUT + 0.3)  # idle between requests is keep-alive's
        second = client.get("/health")

    assert (first.status_code, second.status_code) == (200, 200)
