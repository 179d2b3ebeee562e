"""Replay benchmark: rebuild and verify of the batch-jobs read model from 100k events.

For each backend (embedded SQLite files, and PostgreSQL in a database of its own):

* seed: batch jobs through their whole lifecycle (created, pre_processed, confirmed,
  processing, completed: 5 events each), saved 500 jobs per `app.save`, until
  `--events` events are stored (100,000 by default: 20,000 jobs);
* raw read: every one of those events, in notification order, straight from the
  store (`recorder.select_notifications`, 5,000 per call, the projection's topics),
  not decoded: how fast the events can come off the store at all;
* rebuild: `jobstream projections rebuild batchjobs` as a library call
  (`Models.rebuild("batchjobs").run()`): decode, fold and write into the shadow tables,
  5,000 events per transaction with tracking, then the swap;
* verify: `jobstream verify`'s batch-jobs half (fold every job again and compare with
  each stored row and document).

Prints events/s of each beside the raw read, per backend. Target: a rebuild of at
least 10,000 events/s on PostgreSQL. Each phase is timed once, in one process.

Run: `.venv/bin/python bench/replay.py [--events 100000] [--backends embedded,postgres]`
(PostgreSQL: `--postgres postgresql://postgres@127.0.0.1:5432/postgres`, trust auth).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from domain.batch_jobs import BatchJob  # noqa: E402
from projections.batch_jobs.projection import BatchJobsProjection  # noqa: E402
from service.audit import verify  # noqa: E402
from service.audit.models import Models  # noqa: E402
from service.bootstrap.stores import build_app  # noqa: E402
from service.settings import Settings  # noqa: E402

if TYPE_CHECKING:
    from service.application import Jobstream

JOBS_PER_SAVE = 500
EVENTS_PER_JOB = 5
PAGE = 5000
TARGET = 10_000


def settings_for(directory: Path, database_url: str | None) -> Settings:
    return Settings(
        data_dir=str(directory),
        database_url=database_url,
        jwt_secret="bench-jwt-secret-of-at-least-32-bytes",
        cookie_secret="bench-cookie-secret-of-at-least-32-bytes",
        log_level="warning",
        log_format="console",
    )


def seed(app: Jobstream, events: int) -> int:
    jobs_left = events // EVENTS_PER_JOB
    while jobs_left > 0:
        jobs = []
        for _ in range(min(JOBS_PER_SAVE, jobs_left)):
            job = BatchJob.create(
                batch_type="product-export", created_by="usr_bench", context={"n": 1},
                dry_run=False, actor="usr_bench",
            )  # fmt: skip
            job.set_pre_processing_done("worker:bench")  # + confirmed
            job.set_processing("worker:bench")
            job.complete("worker:bench")
            jobs.append(job)
        app.save(*jobs)
        jobs_left -= len(jobs)
    return app.recorder.max_notification_id() or 0


def raw_read(app: Jobstream) -> int:
    position = read = 0
    while True:
        page = app.recorder.select_notifications(
            start=position, limit=PAGE, topics=BatchJobsProjection.topics,
            inclusive_of_start=False,
        )  # fmt: skip
        if not page:
            return read
        read += len(page)
        position = page[-1].id


def timed(label: str, run: object) -> tuple[int, float]:
    started = time.perf_counter()
    count = run()  # type: ignore[operator]
    seconds = time.perf_counter() - started
    sys.stderr.write(f"  {label}: {count:,} events in {seconds:.2f} s\n")
    return int(count), seconds


def bench(backend: str, events: int, postgres: str) -> dict[str, float]:
    database_url, name = None, None
    if backend == "postgres":
        name = f"jobstream_bench_replay_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(postgres, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        database_url = postgres.rsplit("/", 1)[0] + f"/{name}"
    try:
        with tempfile.TemporaryDirectory() as directory:
            settings = settings_for(Path(directory), database_url)
            app = build_app(settings)
            sys.stderr.write(f"{backend}: seeding {events:,} events\n")
            seed(app, events)
            app.close()
            models = Models.open(settings)
            try:
                raw = timed("raw read", lambda: raw_read(models.app))
                rebuilt = timed(
                    "rebuild", lambda: models.rebuild("batchjobs").run().events
                )
                checked = timed("verify", lambda: _verified(models))
            finally:
                models.close()
    finally:
        if name is not None:
            with psycopg.connect(postgres, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return {
        label: count / seconds
        for label, (count, seconds) in (
            ("raw", raw),
            ("rebuild", rebuilt),
            ("verify", checked),
        )
    }


def _verified(models: Models) -> int:
    report = verify.verify_batch_jobs(models)
    if report.differences:
        raise AssertionError(report.differences[:3])
    return report.events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--backends", default="embedded,postgres")
    parser.add_argument(
        "--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    rows = []
    for backend in args.backends.split(","):
        rates = bench(backend, args.events, args.postgres)
        rows.append((backend, rates))
    print(f"\n{args.events:,} events (batch-job lifecycles, 5 events per job)")
    print(
        f"{'backend':<10} {'raw read/s':>12} {'rebuild/s':>12} {'verify/s':>12}  target"
    )
    for backend, rates in rows:
        target = f">= {TARGET:,}/s rebuild" if backend == "postgres" else ""
        print(
            f"{backend:<10} {rates['raw']:>12,.0f} {rates['rebuild']:>12,.0f} "
            f"{rates['verify']:>12,.0f}  {target}"
        )


if __name__ == "__main__":
    main()
