"""Cross-process reads: a write to one read model, then a read of the other.

The multi-process mode on PostgreSQL: `jobstream projections` keeps the read models
in a process of its own, and an API process (project=False) waits for their
positions. Each round writes a batch job (and settles, as POST does), then reads
the catalog (its catch-up, as GET does), and the other way round (a collection,
then the batch jobs). Prints p50/p99 of the read's wait, for positions told by
NOTIFY (the default) beside the same run with the 5 ms store poll (the polling
transport), and of the write and the read together (w+r). Issue 12's target:
50 ms p99 with notifications.

Run: `.venv/bin/python bench/cross_process_reads.py [--rounds 200]`
(PostgreSQL: `--postgres postgresql://postgres@127.0.0.1:5432/postgres`, trust auth;
the bench creates a database of its own and drops it).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from domain.strategies import BatchJobDraft  # noqa: E402
from projections.read_models.known import BATCH_JOBS, CATALOG  # noqa: E402
from service.read_models.remote_positions import PollingRemotePositions  # noqa: E402
from service.runtime import Runtime  # noqa: E402
from service.settings import Settings  # noqa: E402
from service.strategies.registry import StrategyRegistry  # noqa: E402

DRAFT = BatchJobDraft(type="product-export", context={}, dry_run=True)
TARGET_P99_MS = 50.0


def settings_for(directory: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=str(directory),
        database_url=database_url,
        jwt_secret="bench-jwt-secret-of-at-least-32-bytes",
        cookie_secret="bench-cookie-secret-of-at-least-32-bytes",
        log_level="warning",
        log_format="json",
    )


def projections_process(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "JOBSTREAM_DATA_DIR": settings.data_dir,
        "JOBSTREAM_DATABASE_URL": settings.database_url or "",
        "JOBSTREAM_JWT_SECRET": settings.jwt_secret or "",
        "JOBSTREAM_COOKIE_SECRET": settings.cookie_secret or "",
        "JOBSTREAM_LOG_LEVEL": "info",
        "JOBSTREAM_LOG_FORMAT": "json",
    }
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "projections"],
            env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while "runtime.started" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"projections did not start: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    return process


def rounds(api: Runtime, count: int) -> list[tuple[float, float]]:
    """(the read's wait, the write and read together) of each read, in seconds."""
    jobs, catalog = api.read_models[BATCH_JOBS.name], api.read_models[CATALOG.name]
    timings = []
    for i in range(count):
        began = time.perf_counter()
        _, position = api.app.create_batch_job(DRAFT, "usr_bench")
        jobs.settle(position)  # as POST /admin/batch-jobs
        started = time.perf_counter()
        catalog.catch_up()  # as GET /admin/products
        ended = time.perf_counter()
        timings.append((ended - started, ended - began))
        began = time.perf_counter()
        _, position = api.catalog.create_collection(
            {"title": f"c{i}", "handle": f"c-{uuid.uuid4().hex[:8]}", "metadata": None},
            "usr_bench",
        )
        catalog.settle(position)  # as POST /admin/collections
        started = time.perf_counter()
        jobs.catch_up()  # as GET /admin/batch-jobs
        ended = time.perf_counter()
        timings.append((ended - started, ended - began))
    return timings


def measure(
    settings: Settings, count: int, *, polling: bool
) -> list[tuple[float, float]]:
    api = Runtime(
        settings, registry=StrategyRegistry(), process_jobs=False, project=False
    )
    if polling:
        host = api.read_models
        host.remote = PollingRemotePositions(lambda name: host[name].recorded())
        for model in host:
            model._remote = host.remote  # noqa: SLF001 - the baseline's transport
    api.start()
    try:
        time.sleep(0.5)  # LISTEN in place
        rounds(api, 10)  # warm up: pools, first looks
        return rounds(api, count)
    finally:
        api.stop()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument(
        "--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    name = f"jobstream_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.postgres, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = f"{args.postgres.rpartition('/')[0]}/{name}"
    try:
        with tempfile.TemporaryDirectory() as directory:
            settings = settings_for(Path(directory), url)
            process = projections_process(settings, Path(directory) / "p.log")
            try:
                results = {
                    "notify": measure(settings, args.rounds, polling=False),
                    "poll 5 ms": measure(settings, args.rounds, polling=True),
                }
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
    finally:
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )
    print(f"\nwrite to one read model, then read the other: {2 * args.rounds} reads")
    print(
        f"{'positions':<10} {'read p50':>9} {'read p99':>9} {'read max':>9} "
        f"{'w+r p50':>9} {'w+r p99':>9}   (ms)"
    )
    for label, timings in results.items():
        reads = [r * 1000 for r, _ in timings]
        both = [t * 1000 for _, t in timings]
        print(
            f"{label:<10} {statistics.median(reads):>9.1f} "
            f"{percentile(reads, 0.99):>9.1f} {max(reads):>9.1f} "
            f"{statistics.median(both):>9.1f} {percentile(both, 0.99):>9.1f}"
        )
    print(f"target: p99 <= {TARGET_P99_MS:.0f} ms with notifications (issue 12)")


if __name__ == "__main__":
    main()
