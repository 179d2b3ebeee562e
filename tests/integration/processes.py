"""Roles started as real processes (`python -m service <role>`), for kill tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from service.settings import Settings

ROOT = Path(__file__).parents[2]


def install_test_strategy(directory: Path) -> Path:
    """A dist-info on the process's path, naming tests.support:scripted_strategy."""
    dist_info = directory / "jobstream_tests-0.0.0.dist-info"
    dist_info.mkdir(parents=True, exist_ok=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: jobstream-tests\nVersion: 0.0.0\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "[jobstream.strategies]\nscripted = tests.support:scripted_strategy\n"
    )
    return directory


def environment(settings: Settings, plugins: Path | None = None) -> dict[str, str]:
    """The process environment that gives a role these settings."""
    path = f"{plugins}:{ROOT}" if plugins is not None else str(ROOT)
    values: dict[str, Any] = {
        "data_dir": settings.data_dir,
        "database_url": settings.database_url or "",
        "nats_url": settings.nats_url or "",
        "nats_stream": settings.nats_stream,
        "nats_subject_prefix": settings.nats_subject_prefix,
        "worker_durable": settings.worker_durable,
        "lease_seconds": settings.lease_seconds,
        "worker_concurrency": settings.worker_concurrency,
        "stuck_job_seconds": settings.stuck_job_seconds,
        "file_store": settings.file_store or "",
        "file_bucket": settings.file_bucket,
        "jwt_secret": settings.jwt_secret or "",
        "cookie_secret": settings.cookie_secret or "",
        "host": settings.host,
        "port": settings.port,
        "http_workers": settings.http_workers,
        "log_format": "json",
    }
    env = {f"JOBSTREAM_{key.upper()}": str(value) for key, value in values.items()}
    return {**os.environ, "PYTHONPATH": path, **env}


def start_role(
    settings: Settings, role: str, log: Path, plugins: Path | None = None
) -> subprocess.Popen[bytes]:
    """`jobstream <role>`, its JSON log lines written to `log`."""
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "service", *role.split()],
            env=environment(settings, plugins),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


def log_events(log: Path) -> list[str]:
    """The `event` of every JSON line the process logged, in order."""
    events = []
    for line in log.read_text().splitlines():
        try:
            events.append(json.loads(line)["event"])
        except (ValueError, KeyError, TypeError):
            continue  # a traceback line, or uvicorn's own output
    return events


def wait_for_log(log: Path, event: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while event not in log_events(log):
        if time.monotonic() > deadline:
            raise AssertionError(f"no {event} in {log}: {log.read_text()[-2000:]}")
        time.sleep(0.05)
