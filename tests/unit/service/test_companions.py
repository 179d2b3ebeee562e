"""A companion process (`serve`'s jobs process) lives and stops with the HTTP ones."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

# The server as its own process, with one companion whose end `MODE` picks:
# "signalled" waits for SIGTERM and exits 0, "fails" exits 3 after a moment,
# "alone" exits 0 after a moment, as if signalled on its own.
SERVER = textwrap.dedent(
    """
    import os, signal, sys, threading, time, types
    from service.commandline import http_server

    MODE = sys.argv[1]

    def companion():
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        print("companion up", flush=True)
        if MODE == "signalled":
            stopped.wait(60)
            time.sleep(0.3)  # finishing what it holds
            print("companion stopped", flush=True)
            return 0
        time.sleep(0.5)
        return 3 if MODE == "fails" else 0

    class App:
        state = types.SimpleNamespace()  # no live feeds to end

        async def __call__(self, scope, receive, send):
            assert scope["type"] == "lifespan"
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                    print("started", flush=True)
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    sys.exit(
        http_server.run_processes(
            lambda *, primary: App(),
            http_server.bind("127.0.0.1", 0),
            5.0,
            1,
            [http_server.Companion("jobs", companion)],
        )
    )
    """
)


def start(mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", SERVER, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(server: subprocess.Popen[str]) -> tuple[int, list[str]]:
    try:
        output, _ = server.communicate(timeout=30)
    finally:
        server.kill()
        server.wait()
    return server.returncode, output.splitlines()


def wait_for_lines(server: subprocess.Popen[str], wanted: set[str]) -> None:
    assert server.stdout is not None
    seen: set[str] = set()
    while not wanted <= seen:
        line = server.stdout.readline()
        assert line, f"the server ended before printing {wanted - seen}"
        seen.add(line.strip())


def test_a_stop_signal_stops_the_companion_beside_the_server() -> None:
    server = start("signalled")
    try:
        wait_for_lines(server, {"companion up", "started"})
        server.send_signal(signal.SIGTERM)
    finally:
        code, lines = finish(server)

    assert code == -signal.SIGTERM  # ended by the signal, as a shell expects
    assert "companion stopped" in lines  # it was told, and finished first
    assert not any("http.companion_exited" in line for line in lines)


def test_a_companion_that_fails_stops_the_server_with_exit_code_1() -> None:
    started = time.monotonic()
    code, lines = finish(start("fails"))

    assert code == 1
    assert time.monotonic() - started < 15
    exited = [line for line in lines if "http.companion_exited" in line]
    assert len(exited) == 1
    assert "exit_code=3" in exited[0] and "name=jobs" in exited[0]


def test_a_companion_signalled_alone_stops_the_server_as_a_signal_would() -> None:
    code, lines = finish(start("alone"))

    assert code == -signal.SIGTERM  # a stop, not a failure
    assert any("http.companion_exited" in line for line in lines)
