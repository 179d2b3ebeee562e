"""`events tail` against a real nats-server that goes away, or has no stream."""

from __future__ import annotations

import asyncio
import os
import select
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import nats
import pytest

from service.messaging.streams import ensure_stream
from tests.api.test_cli_errors import JOBSTREAM, one_line_error, run
from tests.integration.conftest import free_port, wait_for_port

pytestmark = pytest.mark.integration


def start_nats(store: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    port = free_port()
    server = subprocess.Popen(
        [binary, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port)
    return server, f"nats://127.0.0.1:{port}"


async def create_stream(url: str, name: str, prefix: str) -> None:
    nc = await nats.connect(url)
    try:
        await ensure_stream(nc.jetstream(), name, prefix)
    finally:
        await nc.close()


def test_tail_ends_in_one_line_when_nats_goes_away(tmp_path: Path) -> None:
    server, url = start_nats(tmp_path / "jetstream")
    name = f"S{uuid.uuid4().hex[:8]}"
    env = {"JOBSTREAM_NATS_URL": url, "JOBSTREAM_NATS_STREAM": name,
           "JOBSTREAM_NATS_SUBJECT_PREFIX": name.lower()}  # fmt: skip
    try:
        asyncio.run(create_stream(url, name, name.lower()))
        tail = subprocess.Popen(
            [JOBSTREAM, "events", "tail"],
            cwd=tmp_path,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert tail.stdout is not None
        ready, _, _ = select.select([tail.stdout], [], [], 30)
        assert ready, "events tail never subscribed"
        header = tail.stdout.readline()
    finally:
        server.terminate()
        server.wait(timeout=10)
    stopped = time.monotonic()
    try:
        _, stderr = tail.communicate(timeout=30)
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.communicate()

    assert header.startswith("stream_seq")
    assert time.monotonic() - stopped < 20  # 3 tries a second apart, and start-up
    done = subprocess.CompletedProcess(tail.args, tail.returncode, "", stderr)
    assert done.returncode == 1
    line = one_line_error(done, "JOBSTREAM_NATS_URL", "lost the connection")
    assert url.removeprefix("nats://") in line


def test_tail_names_a_stream_that_does_not_exist(tmp_path: Path) -> None:
    server, url = start_nats(tmp_path / "jetstream")
    try:
        done = run(
            tmp_path,
            "events",
            "tail",
            env={"JOBSTREAM_NATS_URL": url, "JOBSTREAM_NATS_STREAM": "NOPE"},
        )
    finally:
        server.terminate()
        server.wait(timeout=10)

    assert done.returncode == 1
    assert one_line_error(done, "JOBSTREAM_NATS_STREAM", "'NOPE'")
