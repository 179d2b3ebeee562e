"""Product-import benchmark: the real `product-import` job on 1k, 10k and 50k rows.

For each backend (`--backends`: embedded SQLite, PostgreSQL) and size (`--sizes`, in
CSV rows) it seeds a catalog of size/3 products with 3 variants (S, M, L) and 2
prices each, through the application layer, exports it with the real
`product-export` job, and then runs, each phase a subprocess of this script so one
phase's memory never shows in another's peak RSS:

* update: the exported file imported back into the seeded catalog (every row a
  variant update, every third row a product update);
* create: the same file with `Product Id` and `Variant Id` emptied, imported into an
  empty store (every row a variant create, every third a product create);
* csv: the same file read with `csv.reader(delimiter=";")`, every row touched: the
  floor for parsing alone.

Each import is `app.create_batch_job` of a non-dry-run job (the worker pre-processes,
confirms and processes it) and a 50 ms poll until final (a tighter poll steals the
worker's CPU; the times are the job's own stamps, so the poll does not blur them).
Printed per run: rows, seconds and rows/s from created_at to completed_at,
pre-processing and processing seconds, peak RSS of the phase process, and the csv
floor's rows/s.
Target: >= 5,000 rows/s on PostgreSQL, peak RSS that does not grow with the file.

Run: `.venv/bin/python bench/import.py [--sizes 1000,10000,50000]
[--backends embedded,postgres]` (PostgreSQL at $JOBSTREAM_BENCH_ADMIN_URL, default
postgresql://postgres@127.0.0.1:5432/postgres; a database per run, dropped after).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from service.runtime import Runtime

REPO = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get(
    "JOBSTREAM_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SEED_BATCH = 500
SIZES = ("S", "M", "L")
POLL = 0.05  # only to notice the end: the timings are the job's own stamps
TIMEOUT = 3600.0
PHASE_TIMEOUT = float(os.environ.get("JOBSTREAM_BENCH_PHASE_TIMEOUT", "900"))
USER_ID = "usr_bench_import"


def started_runtime(directory: Path, database_url: str | None) -> Runtime:
    from service.gc_tuning import tune_gc  # noqa: PLC0415 - only in the phases
    from service.logs import configure_logging  # noqa: PLC0415
    from service.runtime import Runtime  # noqa: PLC0415
    from service.settings import Settings  # noqa: PLC0415

    settings = Settings(
        data_dir=str(directory),
        database_url=database_url,
        jwt_secret="bench-jwt-secret-of-at-least-32-bytes",
        cookie_secret="bench-cookie-secret-of-at-least-32-bytes",
        read_your_writes_timeout=30.0,
        log_level=os.environ.get("JOBSTREAM_BENCH_LOG_LEVEL", "warning"),
        log_format="console",
    )
    configure_logging(settings.log_level, settings.log_format)
    tune_gc()  # as `jobstream` does at start
    runtime = Runtime(settings)
    runtime.start()
    return runtime


def product_body(n: int) -> dict[str, Any]:
    prices = [
        {"currency_code": "usd", "amount": 1999},
        {"currency_code": "eur", "amount": 1850},
    ]
    return {
        "title": f"Product {n}", "handle": f"product-{n}",
        "options": [{"title": "Size"}],
        "variants": [
            {"title": size, "sku": f"sku-{n}-{size}", "prices": prices,
             "options": [{"value": size}]}
            for size in SIZES
        ],
    }  # fmt: skip


def run_job(runtime: Runtime, batch_type: str, context: dict[str, Any]) -> Any:
    from domain.strategies import BatchJobDraft  # noqa: PLC0415

    draft = BatchJobDraft(type=batch_type, context=context, dry_run=False)
    job, _ = runtime.app.create_batch_job(draft, USER_ID)
    deadline = time.perf_counter() + TIMEOUT
    while not job.is_final and time.perf_counter() < deadline:
        time.sleep(POLL)
        job = runtime.app.get_batch_job(job.id)
    return job


def phase_seed(
    directory: Path, url: str | None, rows: int, out: Path
) -> dict[str, Any]:
    """Seed rows/3 products, export them, copy the file to `out`."""
    from service.http.catalog.product_bodies import validate_create  # noqa: PLC0415

    runtime = started_runtime(directory, url)
    try:
        products = rows // len(SIZES)
        position = 0
        for first in range(0, products, SEED_BATCH):
            changes = runtime.catalog.changes(USER_ID)
            for n in range(first, min(first + SEED_BATCH, products)):
                runtime.catalog.create_product(
                    changes, validate_create(product_body(n))
                )
            position = changes.save()
        while not runtime.catalog_reads.wait_for(position):
            pass
        job = run_job(runtime, "product-export", {"limit": 500})
        if job.status.value != "completed":
            raise RuntimeError(f"export ended {job.status}: {job.result}")
        with runtime.files.open_reader(job.result["file_key"]) as reader:
            out.write_bytes(b"".join(reader.chunks()))
        return {"products": products}
    finally:
        runtime.stop()


def phase_import(directory: Path, url: str | None, source: Path) -> dict[str, Any]:
    from service.files.owners import FileOwners  # noqa: PLC0415

    runtime = started_runtime(directory, url)
    try:
        runtime.catalog.ensure_store()
        key = f"protected/bench-{uuid.uuid4().hex}.csv"
        # Uploaded as the job's creator: an import reads only its creator's file.
        owned = FileOwners(runtime.app).writes_by(runtime.files, USER_ID, USER_ID)
        with source.open("rb") as file:
            owned.put(key, file)
        job = run_job(runtime, "product-import", {"fileKey": key})
        if job.status.value != "completed":
            raise RuntimeError(f"import ended {job.status}: {job.result}")
        return {
            "wall": (job.completed_at - job.created_at).total_seconds(),
            "pre_process": (job.pre_processed_at - job.created_at).total_seconds(),
            "process": (job.completed_at - job.processing_at).total_seconds(),
            "operations": job.result["operations"],
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    finally:
        runtime.stop()


def phase_csv(source: Path) -> dict[str, Any]:
    started = time.perf_counter()
    cells = 0
    with source.open(newline="", encoding="utf-8") as file:
        for row in csv.reader(file, delimiter=";"):
            cells += len(row)
    return {"seconds": time.perf_counter() - started, "cells": cells}


def as_creates(source: Path, target: Path) -> None:
    """The file with its Product Id and Variant Id cells emptied."""
    with (
        source.open(newline="", encoding="utf-8") as read,
        target.open("w", newline="", encoding="utf-8") as write,
    ):
        reader = csv.reader(read, delimiter=";")
        writer = csv.writer(write, delimiter=";", lineterminator="\r\n")
        header = next(reader)
        ids = [header.index("Product Id"), header.index("Variant Id")]
        writer.writerow(header)
        for row in reader:
            for index in ids:
                row[index] = ""
            writer.writerow(row)


def spawn(*arguments: str | int | Path | None) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve())]
    command += [str(a) for a in arguments if a is not None]
    try:
        done = subprocess.run(
            command, cwd=REPO, stdout=subprocess.PIPE, check=False, text=True,
            timeout=PHASE_TIMEOUT,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"timeout": PHASE_TIMEOUT}
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[2:])} exited {done.returncode}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


class Database:
    """A fresh PostgreSQL database for one store (None: embedded)."""

    def __init__(self, backend: str) -> None:
        self.name = f"jobstream_bench_{uuid.uuid4().hex[:10]}"
        self.url: str | None = None
        if backend == "postgres":
            import psycopg  # noqa: PLC0415

            with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
            self.url = ADMIN_URL.rpartition("/")[0] + "/" + self.name

    def drop(self) -> None:
        if self.url is not None:
            import psycopg  # noqa: PLC0415

            with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def url_args(database: Database) -> Iterator[str]:
    if database.url is not None:
        yield "--database-url"
        yield database.url


def run_size(root: Path, backend: str, rows: int) -> list[tuple[str, ...]]:
    directory = root / f"{backend}-{rows}"
    directory.mkdir()
    exported, creates = directory / "export.csv", directory / "creates.csv"
    seeded, empty = Database(backend), Database(backend)
    try:
        print(f"{backend}: seeding and exporting {rows} rows ...", file=sys.stderr)
        spawn("--phase", "seed", "--dir", directory / "seeded", "--rows", rows,
              "--source", exported, *url_args(seeded))  # fmt: skip
        as_creates(exported, creates)
        floor = spawn("--phase", "csv", "--source", exported)
        results: list[tuple[str, ...]] = []
        for kind, source, database, store in (
            ("update", exported, seeded, "seeded"), ("create", creates, empty, "empty"),
        ):  # fmt: skip
            print(f"{backend}: importing {rows} rows as {kind}s ...", file=sys.stderr)
            run = spawn("--phase", "import", "--dir", directory / store,
                        "--source", source, *url_args(database))  # fmt: skip
            if "timeout" in run:
                results.append(
                    (
                        backend,
                        kind,
                        f"{rows:,}",
                        f"> {PHASE_TIMEOUT:.0f}",
                        "stalled",
                        "",
                        "",
                        "",
                        f"{rows / floor['seconds']:,.0f}",
                    )
                )
                print("  ".join(results[-1]), flush=True)
                continue
            results.append((
                backend, kind, f"{rows:,}", f"{run['wall']:.2f}",
                f"{rows / run['wall']:,.0f}", f"{run['pre_process']:.2f}",
                f"{run['process']:.2f}", f"{run['peak_rss_mb']:.0f}",
                f"{rows / floor['seconds']:,.0f}",
            ))  # fmt: skip
            print("  ".join(results[-1]), flush=True)
        return results
    finally:
        seeded.drop()
        empty.drop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--backends", default="embedded,postgres")
    parser.add_argument("--phase", choices=("seed", "import", "csv"))
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase is not None:
        sys.path.insert(0, str(REPO))
        directory = Path(args.dir) if args.dir else Path()
        if args.phase == "seed":
            outcome = phase_seed(
                directory, args.database_url, args.rows, Path(args.source)
            )
        elif args.phase == "import":
            outcome = phase_import(directory, args.database_url, Path(args.source))
        else:
            outcome = phase_csv(Path(args.source))
        print(json.dumps(outcome, default=str))
        return 0
    print(
        f"machine: nproc={len(os.sched_getaffinity(0))}, python {sys.version.split()[0]}"
    )
    header = ("backend", "import", "rows", "wall s", "rows/s", "pre-proc s", "proc s",
              "peak RSS MB", "csv rows/s")  # fmt: skip
    table: list[tuple[str, ...]] = [header]
    with tempfile.TemporaryDirectory(prefix="jobstream-import-") as tmp:
        for backend in args.backends.split(","):
            for rows in (int(size) for size in args.sizes.split(",")):
                table.extend(run_size(Path(tmp), backend, rows))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for index, row in enumerate(table):
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * w for w in widths))
    print(
        "\nrows/s = CSV rows / seconds from the job's created_at to its completed_at"
        " (parse and plan,"
        " confirm, apply and one atomic save). peak RSS: the import subprocess's"
        " ru_maxrss. csv rows/s: csv.reader over the same file."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
