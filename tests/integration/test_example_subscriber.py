"""The example subscribers keep following a quiet stream on a real nats-server.

A `fetch()` that gets nothing raises nats-py's TimeoutError, or asyncio's (the
builtin, not a subclass of nats-py's) when its deadline runs out between its two pull
requests (`JetStreamContext.PullSubscription._fetch_n`). Which one depends on timing,
so each test runs twice: as the server answers, and with every timed-out fetch
re-raised as asyncio's, the form that used to crash examples/status_counts.py and the
snippet in docs/events.md.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import nats
import nats.errors
import pytest
from nats.js.client import JetStreamContext

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "status_counts.py"
# Both subscribers fetch with a 0.5 s timeout here: several empty fetches in a row.
QUIET_SECONDS = 3.0
TIMEOUT_FORMS = pytest.mark.parametrize(
    "asyncio_timeouts", [False, True], ids=["nats-timeouts", "asyncio-timeouts"]
)
# Runs the example as `python examples/status_counts.py ...` does, after making
# every timed-out fetch raise asyncio's TimeoutError.
LAUNCHER = """
import runpy, sys
import nats.errors
from nats.js.client import JetStreamContext

real_fetch = JetStreamContext.PullSubscription.fetch

async def fetch(self, *args, **kwargs):
    try:
        return await real_fetch(self, *args, **kwargs)
    except nats.errors.TimeoutError:
        raise TimeoutError from None

JetStreamContext.PullSubscription.fetch = fetch
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


async def create_stream(nats_url: str, stream: str, prefix: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().add_stream(name=stream, subjects=[f"{prefix}.>"])
    finally:
        await nc.close()


async def publish(nats_url: str, subject: str, envelope: dict[str, str]) -> None:
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(subject, json.dumps(envelope).encode())
    finally:
        await nc.close()


def applied_sequence(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        try:
            row = conn.execute("SELECT stream_seq FROM position").fetchone()
        except sqlite3.OperationalError:  # the example has not created it yet
            return 0
    return int(row[0]) if row else 0


def quiet_stream(nats_url: str) -> tuple[str, str]:
    """A stream of this test's own that nothing publishes to; its subject prefix."""
    tag = uuid.uuid4().hex[:8]
    stream, prefix = f"QUIET_{tag}", f"quiet{tag}"
    asyncio.run(create_stream(nats_url, stream, prefix))
    return stream, prefix


@pytest.fixture
def example(
    nats_url: str, tmp_path: Path, asyncio_timeouts: bool
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """examples/status_counts.py in a process of its own, following a quiet stream."""
    stream, prefix = quiet_stream(nats_url)
    python = [sys.executable, "-c", LAUNCHER] if asyncio_timeouts else [sys.executable]
    process = subprocess.Popen(
        [*python, str(EXAMPLE), "--nats", nats_url, "--stream", stream,
         "--subject-prefix", prefix, "--durable", "counts",
         "--db", str(tmp_path / "counts.sqlite")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        yield process, prefix
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


@TIMEOUT_FORMS
def test_the_example_keeps_following_a_quiet_stream_and_stops_cleanly_on_sigterm(
    example: tuple[subprocess.Popen[str], str], nats_url: str, tmp_path: Path
) -> None:
    process, prefix = example
    time.sleep(QUIET_SECONDS)
    still_running = process.poll() is None

    # Still following: an event published after the quiet spell is applied.
    envelope = {"event": "batch.created", "job_id": "batch_quiet"}
    asyncio.run(publish(nats_url, f"{prefix}.batch.created", envelope))
    deadline = time.monotonic() + 10
    while (
        applied_sequence(tmp_path / "counts.sqlite") < 1
        and process.poll() is None
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    applied = applied_sequence(tmp_path / "counts.sqlite")

    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=10)

    assert still_running, stderr
    assert applied == 1
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    shown = subprocess.run(
        [sys.executable, str(EXAMPLE), "--db", str(tmp_path / "counts.sqlite"), "--show"],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    assert json.loads(shown.stdout) == {"created": 1}


def documented_subscriber(nats_url: str, stream: str, prefix: str) -> dict[str, object]:
    """docs/events.md's snippet as a module, pointed at this test's server and stream."""
    doc = (ROOT / "docs" / "events.md").read_text()
    [source] = re.findall(r"```python\n(.*?)```", doc, flags=re.DOTALL)
    for documented, here in [
        ('"nats://127.0.0.1:4222"', repr(nats_url)),
        ('STREAM = "JOBSTREAM"', f"STREAM = {stream!r}"),
        ('PREFIX = "jobstream"', f"PREFIX = {prefix!r}"),
        ("timeout=5)", "timeout=0.5)"),  # several empty fetches in QUIET_SECONDS
    ]:
        assert source.count(documented) == 1, documented
        source = source.replace(documented, here)
    namespace: dict[str, object] = {"__name__": "events_doc_snippet"}
    exec(compile(source, "docs/events.md", "exec"), namespace)  # noqa: S102 - our own doc
    return namespace


@TIMEOUT_FORMS
def test_the_documented_snippet_keeps_consuming_through_a_quiet_stream(
    nats_url: str,
    asyncio_timeouts: bool,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if asyncio_timeouts:
        real_fetch = JetStreamContext.PullSubscription.fetch

        async def fetch(self: JetStreamContext.PullSubscription, *args, **kwargs):
            try:
                return await real_fetch(self, *args, **kwargs)
            except nats.errors.TimeoutError:
                raise TimeoutError from None

        monkeypatch.setattr(JetStreamContext.PullSubscription, "fetch", fetch)
    stream, prefix = quiet_stream(nats_url)
    snippet = documented_subscriber(nats_url, stream, prefix)
    envelope = {
        "event_id": "batch_quiet:1", "position": "1", "event": "batch.created",
        "job_id": "batch_quiet", "payload": "{}",
    }  # fmt: skip

    async def quiet_then_one_event() -> bool:
        stop = asyncio.Event()
        consume = snippet["consume"]
        assert callable(consume)
        task = asyncio.create_task(consume(stop))
        await asyncio.sleep(QUIET_SECONDS)
        still_running = not task.done()
        await publish(nats_url, f"{prefix}.batch.created", envelope)
        for _ in range(200):
            if snippet["done"] or task.done():
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, timeout=15)  # returns: no exception, no hang
        return still_running

    assert asyncio.run(quiet_then_one_event())
    assert snippet["done"] == {"batch_quiet:1"}
    assert "batch_quiet" in capsys.readouterr().out
