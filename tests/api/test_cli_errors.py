"""The `jobstream` command's errors: one line naming what is wrong, a non-zero exit.

Each test runs the installed `jobstream` entry point as a process, in a directory of
its own, and checks that stderr is exactly one line, with no traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from domain.batch_jobs import BatchJob
from service.bootstrap.stores import build_app
from service.settings import Settings
from tests.conftest import ADMIN_URL

JOBSTREAM = Path(sys.executable).with_name("jobstream")  # the console script


def run(
    cwd: Path,
    *args: str | bytes,
    env: dict[str, str] | None = None,
    timeout: float = 30,
) -> subprocess.CompletedProcess[str]:
    """`jobstream *args` in `cwd`, with no JOBSTREAM_* variable but those in `env`."""
    return subprocess.run(
        [JOBSTREAM, *args],
        cwd=cwd,
        env={**os.environ, "JOBSTREAM_LOG_FORMAT": "json", **(env or {})},
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
        timeout=timeout,
    )


def one_line_error(done: subprocess.CompletedProcess[str], *names: str) -> str:
    """The one stderr line of a failed command, which names each of `names`."""
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    for name in names:
        assert name in lines[0], lines[0]
    return lines[0]


def environment_of(settings: Settings) -> dict[str, str]:
    return {
        "JOBSTREAM_DATA_DIR": settings.data_dir,
        "JOBSTREAM_DATABASE_URL": settings.database_url or "",
        "JOBSTREAM_JWT_SECRET": settings.jwt_secret or "",
        "JOBSTREAM_COOKIE_SECRET": settings.cookie_secret or "",
    }


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("JOBSTREAM_PORT", "abc", "JOBSTREAM_PORT must be an integer, got 'abc'"),
        ("JOBSTREAM_PORT", "70000", "JOBSTREAM_PORT must be from 0 to 65535"),
        ("JOBSTREAM_LOG_LEVEL", "verbose", "JOBSTREAM_LOG_LEVEL must be one of debug"),
        ("JOBSTREAM_SECURE_COOKIES", "maybe", "JOBSTREAM_SECURE_COOKIES must be true"),
    ],
)
@pytest.mark.parametrize("command", [["history", "batch_1"], ["serve"]], ids=" ".join)
def test_a_bad_variable_is_named_in_one_line(
    tmp_path: Path, variable: str, value: str, says: str, command: list[str]
) -> None:
    done = run(tmp_path, *command, env={variable: value})

    assert done.returncode == 2
    assert one_line_error(done).startswith(f"jobstream: {says}")
    assert list(tmp_path.iterdir()) == []  # nothing was opened or created


def test_a_variable_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    env = {**os.environb, b"JOBSTREAM_HOST": b"h\xffst"}
    done = subprocess.run(
        [JOBSTREAM, "history", "batch_1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )

    assert done.returncode == 2
    assert one_line_error(done) == "jobstream: JOBSTREAM_HOST is not valid UTF-8"


@pytest.mark.integration
def test_a_database_that_does_not_exist_is_named(tmp_path: Path) -> None:
    name = f"jobstream_missing_{uuid.uuid4().hex[:12]}"
    server = urlsplit(ADMIN_URL)
    password = server.password or "pw-not-shown"  # trust auth ignores it
    netloc = f"{server.username or 'postgres'}:{password}@{server.hostname}"
    url = f"{server.scheme}://{netloc}:{server.port or 5432}/{name}"
    env = {
        "JOBSTREAM_DATABASE_URL": url,
        "JOBSTREAM_JWT_SECRET": "x" * 32,
        "JOBSTREAM_COOKIE_SECRET": "y" * 32,
    }

    read = run(tmp_path, "history", "batch_1", env=env)
    served = run(tmp_path, "serve", env=env)

    for done in (read, served):
        assert done.returncode == 1
        line = one_line_error(done, "JOBSTREAM_DATABASE_URL", repr(name))
        assert "does not exist" in line
        assert password not in line


def test_a_since_that_is_neither_a_position_nor_a_time(tmp_path: Path) -> None:
    done = run(tmp_path, "events", "export", "--since", "garbage")

    assert done.returncode == 2
    line = one_line_error(done, "--since", "'garbage'")
    assert line.startswith("jobstream events export: argument --since: must be")


def nine_event_job(settings: Settings) -> str:
    app = build_app(settings)
    try:
        job = BatchJob.create(
            batch_type="product-export", created_by="usr_1", context={}, dry_run=False,
            actor="usr_1",
        )  # fmt: skip
        job.set_pre_processing_done("worker")  # pre_processed, confirmed
        job.set_processing("worker")
        for page in range(4):
            job.update("worker", result={"advancement_count": page})
        job.complete("worker")
        app.save(job)
        return job.id
    finally:
        app.close()


def test_state_past_the_last_version_names_both(settings: Settings) -> None:
    job_id = nine_event_job(settings)
    cwd = Path(settings.data_dir)
    env = environment_of(settings)

    last = run(cwd, "state", job_id, "--version", "9", "--json", env=env)
    past = run(cwd, "state", job_id, "--version", "99", env=env)
    before = run(cwd, "state", job_id, "--at", "2000-01-01", env=env)

    assert last.returncode == 0, last.stderr
    assert json.loads(last.stdout)["status"] == "completed"
    assert past.returncode == 1
    assert (
        one_line_error(past) == f"jobstream: --version 99: {job_id} has versions 1 to 9"
    )
    assert past.stdout == ""
    assert before.returncode == 1
    assert one_line_error(before, "--at 2000-01-01", job_id)


def test_events_tail_with_nats_down_fails_in_one_line_within_seconds(
    tmp_path: Path,
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()

    done = run(
        tmp_path,
        "events",
        "tail",
        env={"JOBSTREAM_NATS_URL": f"nats://user:secret@127.0.0.1:{port}"},
        timeout=20,
    )

    assert time.monotonic() - started < 15
    assert done.returncode == 1
    line = one_line_error(done, "JOBSTREAM_NATS_URL", f"127.0.0.1:{port}")
    assert "connection refused" in line
    assert "secret" not in line


@pytest.mark.parametrize(
    "command",
    [
        ["history", "batch_1"],
        ["state", "batch_1", "--version", "1"],
        ["events", "export"],
        ["verify"],
        ["projections", "status"],
        ["projections", "rebuild"],
        ["relay", "replay", "--subject-prefix", "again"],
    ],
    ids=" ".join,
)
def test_a_read_command_without_a_data_directory_says_so(
    tmp_path: Path, command: list[str]
) -> None:
    done = run(tmp_path, *command)

    assert done.returncode == 1
    line = one_line_error(done, "no data directory", "JOBSTREAM_DATA_DIR")
    assert str(tmp_path / "var") in line
    assert list(tmp_path.iterdir()) == []  # no empty ./var left behind


def test_a_read_command_in_a_data_directory_without_events_says_so(
    tmp_path: Path,
) -> None:
    (tmp_path / "var").mkdir()

    done = run(tmp_path, "history", "batch_1")

    assert one_line_error(done, "no event store", "JOBSTREAM_DATA_DIR")
    assert list((tmp_path / "var").iterdir()) == []


def test_an_argument_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    done = run(tmp_path, "user", "create", "--email", b"a\xff@example.com", "-p", "pw")

    assert done.returncode == 2
    assert one_line_error(done, "argument --email", "not valid UTF-8")
    assert list(tmp_path.iterdir()) == []  # no user, no store


def test_an_argument_with_nul_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    # The OS cannot pass NUL in argv; main() called by a program can.
    from service.__main__ import main  # noqa: PLC0415

    with pytest.raises(SystemExit) as exited:
        main(["user", "create", "--email", "a\x00b@example.com", "-p", "pw"])

    assert exited.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert "argument --email/-e: contains U+0000" in lines[0]


def test_version_prints_the_package_version(tmp_path: Path) -> None:
    done = run(tmp_path, "--version")

    assert done.returncode == 0, done.stderr
    assert done.stdout == f"jobstream {metadata.version('jobstream')}\n"


class LogLines:
    """A process's JSON log lines (stderr), read on a thread so a wait is bounded."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        self._stream = process.stderr
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.other: list[str] = []  # what is not a log line: a traceback, a stack dump
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self._stream:
            try:
                self._lines.put(json.loads(line))
            except ValueError:
                self.other.append(line)
        self._lines.put(None)  # the process closed its stderr

    def first(self, event: str, seconds: float) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while entry := self._lines.get(timeout=max(0, deadline - time.monotonic())):
            if entry.get("event") == event:
                return entry
        raise AssertionError(f"the process ended without logging {event}")

    def close(self) -> None:
        """After the process ended: the reader is at the end of the stream."""
        self._reader.join(timeout=10)
        self._stream.close()


def test_serve_logs_the_address_it_listens_on(settings: Settings) -> None:
    env = {**os.environ, **environment_of(settings), "JOBSTREAM_PORT": "0"}
    server = subprocess.Popen(
        [JOBSTREAM, "serve"],
        cwd=settings.data_dir,
        env={**env, "JOBSTREAM_LOG_FORMAT": "json"},
        stderr=subprocess.PIPE,
        text=True,
    )
    logs = LogLines(server)
    try:
        listening = logs.first("http.listening", seconds=30)
        health = httpx.get(f"http://127.0.0.1:{listening['port']}/health", timeout=10)
    finally:
        server.terminate()
        # Past its stop deadline (45 s) a hung server dumps its stacks and exits 1.
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()  # not left running into the tests that follow
            server.wait()
        logs.close()

    # SIGTERM ends it cleanly, well before the deadline (stderr shows where it hung).
    assert server.returncode in {0, -signal.SIGTERM}, "".join(logs.other)
    assert listening["host"] == "127.0.0.1"
    assert listening["port"] > 0  # the port the OS chose for 0
    assert health.status_code == 200


def test_serve_on_a_port_in_use_names_it(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        done = run(tmp_path, "serve", env={"JOBSTREAM_PORT": str(port)})

    assert done.returncode == 1
    assert one_line_error(done, f"127.0.0.1:{port}", "JOBSTREAM_PORT", "in use")
    assert list(tmp_path.iterdir()) == []  # refused before opening any store


def subcommands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(((*path, name), sub))
                found.extend(subcommands(sub, (*path, name)))
    return found


def test_every_subcommands_help_says_what_it_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from service.__main__ import _parser, main  # noqa: PLC0415

    commands = subcommands(_parser())
    for path, parser in commands:
        with pytest.raises(SystemExit) as exited:
            main([*path, "--help"])
        shown = capsys.readouterr().out

        assert exited.value.code == 0
        assert parser.description, path
        assert parser.description in " ".join(shown.split()), path
    assert len(commands) >= 14  # every command and sub-action
    by_process = run(tmp_path, "history", "--help")
    assert "print the event timeline of a job or product" in by_process.stdout
