"""A server's stop: one that hangs still ends (its stack on stderr), none is lost."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

# The server as its own process; its app's shutdown never returns.
SERVER = textwrap.dedent(
    """
    import sys, time, types
    from service.commandline import http_server

    http_server.STOP_DEADLINE_SECONDS = 1.0

    def stuck_in_shutdown():
        time.sleep(600)

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
                    stuck_in_shutdown()

    sys.exit(http_server.run(App(), http_server.bind("127.0.0.1", 0), 5.0))
    """
)


def test_a_stop_that_hangs_ends_the_process_past_its_deadline() -> None:
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline() == "started\n"
        signalled = time.monotonic()
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    finally:
        server.kill()
        server.wait()

    assert server.returncode == 1
    assert time.monotonic() - signalled < 15  # the deadline, not the 600 s sleep
    assert "Timeout (0:00:01)!" in stderr  # faulthandler's dump, naming the hang
    assert "in stuck_in_shutdown" in stderr


# Two processes; the primary is stopped while it still builds its app, before
# uvicorn listens for signals (a worker forked first may be answering already).
STOPPED_WHILE_BUILDING = textwrap.dedent(
    """
    import os, signal, sys, types
    from service.commandline import http_server

    class App:
        state = types.SimpleNamespace()

        async def __call__(self, scope, receive, send):
            assert scope["type"] == "lifespan"
            while True:
                message = await receive()
                kind = message["type"].rsplit(".", 1)[-1]
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return

    def build(*, primary):
        if primary:
            os.kill(os.getpid(), signal.SIGTERM)
        return App()

    sock = http_server.bind("127.0.0.1", 0)
    sys.exit(http_server.run_processes(build, sock, 5.0, processes=2))
    """
)


def test_a_stop_signal_while_the_primary_builds_its_app_still_stops_it() -> None:
    server = subprocess.Popen(
        [sys.executable, "-c", STOPPED_WHILE_BUILDING],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _, stderr = server.communicate(timeout=30)
    finally:
        server.kill()
        server.wait()

    # Ended by its SIGTERM, as any stopped server, and before any deadline.
    assert server.returncode == -signal.SIGTERM, stderr
