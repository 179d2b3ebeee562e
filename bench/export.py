"""Product-export benchmark: the real `product-export` job on 1k, 10k and 50k products.

For each size (`--sizes`) it makes a fresh embedded (SQLite) data directory and runs
three phases, each a subprocess of this script (`--phase ...`), so one phase's memory
never shows in another's peak RSS:

* seed: the products, through the application layer (no HTTP): each body checked by
  `validate_create`, `Catalog.create_product` into a change set, 500 products per
  `CatalogChanges.save()`; 3 variants (S, M, L) with 2 prices (usd, eur) each, so 3
  export rows per product. It waits for the catalog projection to have them all.
* export: `Runtime(settings)` with the strategies of the `jobstream.strategies` entry
  point; the context `{"limit": <page size>}` goes through the strategy's
  `prepare_batch_job_for_processing` (as the HTTP create does), then
  `app.create_batch_job` and a 5 ms poll of `app.get_batch_job` until `completed`. It
  reports the wall time create -> completed, the job's own stamps (created ->
  pre_processed: the shape scan; processing_at -> completed_at: the file), the file's
  lines (checked: header + one per variant) and columns, and `ru_maxrss`, as one JSON
  line on stdout. The 10k size also runs an export at Medusa's default page size, 50.
* floor: the exported file's rows, read into an in-memory list, written again with
  `csv.writer(delimiter=";", lineterminator="\\r\\n")` to a file in the same directory:
  the same rows and columns, as fast as Python's csv module writes them.

Prints one table: products, rows, wall and processing time and rows/s, peak RSS, and
the floor's rows/s beside them. Target: >= 20,000 rows/s, peak RSS flat in the number
of products. It asserts nothing beyond each export completing with the right number
of lines.

Run: `.venv/bin/python bench/export.py [--sizes 1000,10000,50000] [--page-size 500]`.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from service.runtime import Runtime
    from service.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SEED_BATCH = 500  # products per CatalogChanges.save()
SIZES = ("S", "M", "L")  # variants per product: export rows per product
MEDUSA_PAGE_SIZE = 50  # Medusa's default `limit`; also run on the 10k size
DEFAULT_PAGE_SHOWN_FOR = 10_000
POLL_INTERVAL = 0.005
JOB_TIMEOUT = 1800.0
TARGET_ROWS_PER_S = 20_000
USER_ID = "usr_bench_export"


# --------------------------------------------------------------------------- phases


def settings_for(directory: Path) -> Settings:
    from service.settings import Settings  # noqa: PLC0415 - only in the phases

    return Settings(
        data_dir=str(directory / "data"),
        jwt_secret="bench-jwt-secret-of-at-least-32-bytes",
        cookie_secret="bench-cookie-secret-of-at-least-32-bytes",
        read_your_writes_timeout=30.0,
        log_level="warning",
        log_format="console",
    )


def started_runtime(directory: Path) -> Runtime:
    from service.gc_tuning import tune_gc  # noqa: PLC0415
    from service.logs import configure_logging  # noqa: PLC0415
    from service.runtime import Runtime  # noqa: PLC0415

    settings = settings_for(directory)
    configure_logging(settings.log_level, settings.log_format)
    tune_gc()  # as `jobstream` does at start
    runtime = Runtime(settings)
    runtime.start()
    return runtime


def product_body(n: int) -> dict[str, Any]:
    return {
        "title": f"Product {n}",
        "handle": f"product-{n}",
        "options": [{"title": "Size"}],
        "variants": [
            {
                "title": size,
                "sku": f"sku-{n}-{size}",
                "prices": [
                    {"currency_code": "usd", "amount": 1999},
                    {"currency_code": "eur", "amount": 1850},
                ],
                "options": [{"value": size}],
            }
            for size in SIZES
        ],
    }


def phase_seed(directory: Path, size: int) -> dict[str, Any]:
    from service.http.catalog.product_bodies import validate_create  # noqa: PLC0415

    runtime = started_runtime(directory)
    try:
        started = time.perf_counter()
        runtime.catalog.ensure_store()
        position = 0
        for first in range(0, size, SEED_BATCH):
            changes = runtime.catalog.changes(USER_ID)
            for n in range(first, min(first + SEED_BATCH, size)):
                runtime.catalog.create_product(
                    changes, validate_create(product_body(n))
                )
            position = changes.save()
            done = min(first + SEED_BATCH, size)
            if done % 5000 == 0 or done == size:
                elapsed = time.perf_counter() - started
                print(f"  seed {done}/{size} saved ({elapsed:.0f} s)", file=sys.stderr)
        saved = time.perf_counter() - started
        while not runtime.catalog_reads.wait_for(position):
            print("  seed: waiting for the catalog projection", file=sys.stderr)
        return {"seconds": time.perf_counter() - started, "saved_seconds": saved}
    finally:
        runtime.stop()


def vm_rss_mb() -> float:
    """The process's resident set now (Linux /proc), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def phase_export(directory: Path, page_size: int) -> dict[str, Any]:
    from domain.strategies import BatchJobDraft  # noqa: PLC0415

    runtime = started_runtime(directory)
    try:
        strategy = runtime.registry.get("product-export")
        draft = strategy.prepare_batch_job_for_processing(
            BatchJobDraft(
                type="product-export", context={"limit": page_size}, dry_run=False
            ),
            USER_ID,
        )
        rss_before = vm_rss_mb()
        peak_before = peak_rss_mb()
        started = time.perf_counter()
        job, _ = runtime.app.create_batch_job(draft, USER_ID)
        deadline = started + JOB_TIMEOUT
        while True:
            job = runtime.app.get_batch_job(job.id)
            if job.is_final or time.perf_counter() > deadline:
                break
            time.sleep(POLL_INTERVAL)
        wall = time.perf_counter() - started
        peak = peak_rss_mb()
        status = str(job.status.value if hasattr(job.status, "value") else job.status)
        result = dict(job.result or {})
        outcome: dict[str, Any] = {
            "status": status,
            "wall_seconds": wall,
            "peak_rss_mb": peak,
            "rss_before_mb": rss_before,
            "peak_before_mb": peak_before,
            "result": {k: v for k, v in result.items() if k != "stat_descriptors"},
        }
        if status != "completed":
            return outcome
        outcome["pre_process_seconds"] = seconds(job.created_at, job.pre_processed_at)
        outcome["process_seconds"] = seconds(job.processing_at, job.completed_at)
        key = result["file_key"]
        lines, header = count_lines(runtime, key)
        outcome.update(
            lines=lines,
            columns=len(header),
            file_size=result.get("file_size"),
            path=str(runtime.settings.data_path / "uploads" / key),
        )
        return outcome
    finally:
        runtime.stop()


def seconds(start: Any, end: Any) -> float | None:
    if start is None or end is None:
        return None
    return float((end - start).total_seconds())


def count_lines(runtime: Runtime, key: str) -> tuple[int, list[str]]:
    """CRLF-terminated lines in the stored file, and its header's cells."""
    lines = 0
    head = b""
    reader = runtime.files.open_reader(key)
    try:
        for chunk in reader.chunks():
            if len(head) < 1 << 16:
                head += chunk[: 1 << 16]
            lines += chunk.count(b"\r\n")
    finally:
        reader.close()
    first = head.split(b"\r\n", 1)[0].decode()
    header = next(csv.reader([first], delimiter=";"))
    return lines, header


def phase_floor(directory: Path, source: Path) -> dict[str, Any]:
    """The exported rows, from memory, through csv.writer: the floor for the export."""
    with source.open(newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file, delimiter=";"))
    target = directory / "floor.csv"
    started = time.perf_counter()
    with target.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file, delimiter=";", lineterminator="\r\n").writerows(rows)
    elapsed = time.perf_counter() - started
    return {
        "seconds": elapsed,
        "rows": len(rows) - 1,
        "columns": len(rows[0]),
        "bytes": target.stat().st_size,
    }


def run_phase(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    if args.phase == "seed":
        outcome = phase_seed(directory, args.size)
    elif args.phase == "export":
        outcome = phase_export(directory, args.page_size)
    else:
        outcome = phase_floor(directory, Path(args.source))
    print(json.dumps(outcome, default=str))
    return 0


# --------------------------------------------------------------------------- driver


def spawn(*arguments: str | int | Path) -> dict[str, Any]:
    """This script, one phase, in a fresh interpreter; its last stdout line as JSON."""
    command = [sys.executable, str(Path(__file__).resolve())]
    command += [str(a) for a in arguments]
    done = subprocess.run(
        command, cwd=REPO, stdout=subprocess.PIPE, check=False, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[2:])} exited {done.returncode}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@dataclass(frozen=True)
class Measured:
    products: int
    page_size: int
    seed_seconds: float
    export: dict[str, Any]
    floor: dict[str, Any] | None


def run_size(root: Path, size: int, page_sizes: Sequence[int]) -> list[Measured]:
    directory = root / f"products-{size}"
    directory.mkdir()
    print(f"seeding {size} products ...", file=sys.stderr)
    seed = spawn("--phase", "seed", "--size", size, "--dir", directory)
    print(f"  seeded in {seed['seconds']:.1f} s", file=sys.stderr)
    measured = []
    floor: dict[str, Any] | None = None
    for page_size in page_sizes:
        print(f"exporting {size} products, page size {page_size} ...", file=sys.stderr)
        export = spawn(
            "--phase", "export", "--page-size", page_size, "--dir", directory
        )
        if export["status"] != "completed":
            raise RuntimeError(f"export of {size} ended {export['status']}: {export}")
        wanted = size * len(SIZES) + 1
        if export["lines"] != wanted:
            raise RuntimeError(
                f"export of {size}: {export['lines']} lines, expected {wanted}"
            )
        if floor is None:
            floor = spawn(
                "--phase", "floor", "--dir", directory, "--source", export["path"]
            )
            if (floor["rows"], floor["columns"]) != (wanted - 1, export["columns"]):
                raise RuntimeError(f"floor rows/columns differ: {floor} vs {export}")
        Path(export["path"]).unlink()  # the next export starts without it
        measured.append(Measured(size, page_size, seed["seconds"], export, floor))
    return measured


def rate(rows: int, elapsed: float | None) -> str:
    if not elapsed:
        return "-"
    return f"{rows / elapsed:,.0f}"


def print_table(results: Sequence[Measured]) -> None:
    header = (
        "products", "page", "rows", "cols", "seed s", "wall s", "rows/s",
        "pre-proc s", "proc s", "rows/s (proc)", "peak RSS MB", "RSS@create MB",
        "csv floor s", "floor rows/s", "file MB",
    )  # fmt: skip
    table = [header]
    for m in results:
        rows = m.products * len(SIZES)
        e, f = m.export, m.floor or {}
        table.append((
            f"{m.products:,}", str(m.page_size), f"{rows:,}", str(e["columns"]),
            f"{m.seed_seconds:.1f}", f"{e['wall_seconds']:.2f}",
            rate(rows, e["wall_seconds"]), f"{e['pre_process_seconds']:.2f}",
            f"{e['process_seconds']:.2f}", rate(rows, e["process_seconds"]),
            f"{e['peak_rss_mb']:.0f}", f"{e['rss_before_mb']:.0f}",
            f"{f.get('seconds', 0):.3f}", rate(rows, f.get("seconds")),
            f"{(e['file_size'] or 0) / 1e6:.1f}",
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for index, row in enumerate(table):
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * w for w in widths))


def parse_sizes(text: str) -> tuple[int, ...]:
    sizes = tuple(int(part) for part in text.split(",") if part)
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes: positive integers, comma-separated")
    return sizes


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=(1000, 10_000, 50_000),
        help="product counts, one fresh data directory each (1000,10000,50000)",
    )
    parser.add_argument(
        "--page-size", type=int, default=500, help="the export's `limit` (500)"
    )
    # Internal: the phases this script runs as its own subprocesses.
    parser.add_argument("--phase", choices=("seed", "export", "floor"))
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.page_size < 1:
        parser.error("--page-size: >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.phase is not None:
        sys.path.insert(0, str(REPO))
        return run_phase(args)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    print(
        f"machine: nproc={len(os.sched_getaffinity(0))}, "
        f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}"
    )
    print(
        f"params: sizes={','.join(map(str, args.sizes))} page_size={args.page_size} "
        f"(and {MEDUSA_PAGE_SIZE} on {DEFAULT_PAGE_SHOWN_FOR:,}); {len(SIZES)} variants "
        f"x 2 prices per product; target >= {TARGET_ROWS_PER_S:,} rows/s, flat peak RSS"
    )
    started = time.perf_counter()
    results: list[Measured] = []
    with tempfile.TemporaryDirectory(prefix="jobstream-export-") as tmp:
        for size in args.sizes:
            page_sizes = [args.page_size]
            if size == DEFAULT_PAGE_SHOWN_FOR and args.page_size != MEDUSA_PAGE_SIZE:
                page_sizes.append(MEDUSA_PAGE_SIZE)
            results.extend(run_size(Path(tmp), size, page_sizes))
    print()
    print_table(results)
    print(
        "\nrows/s = variant rows / seconds. wall: create -> completed seen (pre-processing"
        " scan, confirm, processing, 5 ms polls); proc: the job's processing_at ->"
        " completed_at. peak RSS: the export subprocess's ru_maxrss (RSS@create: its"
        " RSS when the job was created). floor: csv.writer writing the exported rows"
        " from an in-memory list."
    )
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
