"""API lifecycle benchmark: the real `jobstream serve`, embedded (SQLite) and PostgreSQL.

For each backend it starts the service as a subprocess on a fresh data directory (and,
for PostgreSQL, a fresh database), creates a user with an API token, registers a no-op
`bench-noop` strategy through a throwaway entry point, then drives the Admin API with
`--concurrency` asyncio clients:

* create throughput and latency (`POST /admin/batch-jobs`, dry run: jobs stop at
  `pre_processed`, so the processor does not dominate),
* GET-by-id throughput and latency over the created ids,
* list throughput and latency (a random `offset` page; a `created_at[gte]` filter),
* create-to-completed time for a smaller sample of real (non dry-run) jobs.

Beside every figure it prints a baseline measured in the same run (raw single-row
INSERT transactions into a table shaped like the read model, from as many threads) and
Medusa v1's reference figures from the project brief.

Run: `.venv/bin/python bench/api_lifecycle.py [--jobs N] [--gets M] [--backends ...]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import io
import json
import math
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psycopg

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

REPO = Path(__file__).resolve().parent.parent
JOBSTREAM = REPO / ".venv" / "bin" / "jobstream"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/{dbname}"
TOKEN = "bench-token"
HEADERS = {"x-medusa-access-token": TOKEN}
BATCH_TYPE = "bench-noop"
HEALTH_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0
COMPLETION_TIMEOUT = 30.0
POLL_INTERVAL = 0.005
BACKENDS = ("embedded", "postgres")

MEDUSA_CREATE = "Medusa 114 jobs/s"
MEDUSA_GET = "Medusa 127 req/s, p99 1.1 s"
MEDUSA_COMPLETED = "Medusa 6 s (1-product export)"

# The read model's columns (projections/batch_jobs/row.py), in order.
STAMPS = (
    "deleted_at",
    "pre_processed_at",
    "confirmed_at",
    "processing_at",
    "completed_at",
    "canceled_at",
    "failed_at",
)
INSERT_COLUMNS = (
    "id",
    "type",
    "created_by",
    "context",
    "result",
    "dry_run",
    "created_at",
    "updated_at",
    "version",
)


# --------------------------------------------------------------------------- figures


@dataclass
class Sample:
    """Latencies (seconds) of the requests that answered as expected, and the rest."""

    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    failures: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def quantile(self, q: float) -> float:
        """Nearest-rank quantile; NaN when nothing succeeded."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

    @property
    def mean(self) -> float:
        return sum(self.latencies) / len(self.latencies) if self.latencies else math.nan


@dataclass
class Row:
    metric: str
    value: str
    reference: str


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def rate_and_latency(sample: Sample, unit: str) -> str:
    return (
        f"{sample.rate:,.0f} {unit}  p50 {ms(sample.quantile(0.5))}"
        f"  p99 {ms(sample.quantile(0.99))}"
    )


def failures_note(sample: Sample) -> str:
    if not sample.failures:
        return ""
    shown = ", ".join(f"{what} x{n}" for what, n in sample.failures.most_common(3))
    return f"  [{sum(sample.failures.values())} failed: {shown}]"


def print_table(backend: str, rows: Sequence[Row]) -> None:
    header = Row("metric", "value", "baseline / reference")
    width_metric = max(len(r.metric) for r in (header, *rows))
    width_value = max(len(r.value) for r in (header, *rows))
    width_backend = max(len("backend"), len(backend))
    for i, row in enumerate((header, *rows)):
        name = "backend" if i == 0 else backend
        print(
            f"{name:<{width_backend}}  {row.metric:<{width_metric}}  "
            f"{row.value:<{width_value}}  {row.reference}".rstrip()
        )


# --------------------------------------------------------------------------- baselines


def run_threads(
    concurrency: int, rows: int, insert_chunk: Callable[[range], None]
) -> float:
    """Rows/s of `concurrency` threads inserting `rows` rows between them."""
    chunks = [range(i, rows, concurrency) for i in range(concurrency)]
    barrier = threading.Barrier(concurrency + 1)
    errors: list[BaseException] = []

    def work(chunk: range) -> None:
        barrier.wait()
        try:
            insert_chunk(chunk)
        except BaseException as error:  # reported after join  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=work, args=(c,)) for c in chunks]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return rows / elapsed


def baseline_values(i: int, now: object) -> tuple[Any, ...]:
    return (
        f"batch_{i:026d}",
        BATCH_TYPE,
        "usr_bench",
        json.dumps({}),
        None,
        True,
        now,
        now,
        1,
    )


def table_ddl(table: str, time_type: str, json_type: str, bool_type: str) -> list[str]:
    stamps = ", ".join(f"{stamp} {time_type}" for stamp in STAMPS)
    create = (
        f"CREATE TABLE {table} (id TEXT PRIMARY KEY, type TEXT, created_by TEXT, "
        f"context {json_type}, result {json_type}, dry_run {bool_type} NOT NULL, "
        f"created_at {time_type}, updated_at {time_type}, {stamps}, "
        "version INTEGER NOT NULL)"
    )
    return [
        create,
        f"CREATE INDEX {table}_creator_created ON {table} (created_by, created_at, id)",
    ]


def insert_sql(table: str, placeholder: str) -> str:
    marks = ", ".join([placeholder] * len(INSERT_COLUMNS))
    # Constant table and column names, no user input.
    return f"INSERT INTO {table} ({', '.join(INSERT_COLUMNS)}) VALUES ({marks})"  # noqa: S608


def postgres_baseline(url: str, rows: int, concurrency: int) -> float:
    """Raw psycopg: one autocommitted, prepared INSERT per row, one connection a thread."""
    table = "bench_baseline_jobs"
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in table_ddl(table, "TIMESTAMPTZ", "JSONB", "BOOLEAN"):
            conn.execute(statement)
    sql = insert_sql(table, "%s")
    now = datetime.now(UTC)

    def insert_chunk(chunk: range) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            for i in chunk:
                conn.execute(sql, baseline_values(i, now), prepare=True)

    return run_threads(concurrency, rows, insert_chunk)


def sqlite_baseline(directory: Path, rows: int, concurrency: int) -> float:
    """Raw sqlite3 in WAL mode: one INSERT transaction per row, one connection a thread."""
    path = directory / "baseline.sqlite"
    table = "bench_baseline_jobs"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        for statement in table_ddl(table, "TEXT", "TEXT", "INTEGER"):
            conn.execute(statement)
    sql = insert_sql(table, "?")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def insert_chunk(chunk: range) -> None:
        connection = sqlite3.connect(
            path, isolation_level=None, timeout=30, check_same_thread=False
        )
        with contextlib.closing(connection) as conn:
            for i in chunk:
                conn.execute(sql, baseline_values(i, now))

    return run_threads(concurrency, rows, insert_chunk)


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_entry_point(directory: Path) -> None:
    """A fake installed distribution whose entry point registers `bench-noop`."""
    dist_info = directory / "jobstream_bench-0.0.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: jobstream-bench\nVersion: 0.0.0\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "[jobstream.strategies]\nbench-noop = noop_strategy:factory\n"
    )


def server_env(scratch: Path, port: int, database_url: str | None) -> dict[str, str]:
    env = {
        **os.environ,
        "JOBSTREAM_DATA_DIR": str(scratch / "data"),
        "JOBSTREAM_HOST": "127.0.0.1",
        "JOBSTREAM_PORT": str(port),
        "JOBSTREAM_LOG_LEVEL": "warning",
        "JOBSTREAM_LOG_FORMAT": "json",
        "PYTHONPATH": os.pathsep.join(
            [str(scratch / "entry_points"), str(REPO / "bench"), str(REPO)]
        ),
    }
    if database_url is not None:
        env["JOBSTREAM_DATABASE_URL"] = database_url
        # The service refuses secrets shorter than 32 bytes.
        env["JOBSTREAM_JWT_SECRET"] = "bench-jwt-secret-0123456789abcdef"
        env["JOBSTREAM_COOKIE_SECRET"] = "bench-cookie-secret-0123456789abcdef"
    return env


def create_user(env: dict[str, str]) -> None:
    command = [str(JOBSTREAM), "user", "create", "--email", "bench@example.com"]
    command += ["--password", "bench-password", "--api-token", TOKEN]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode != 0:
        raise RuntimeError(f"user create failed: {done.stdout}{done.stderr}")


def log_tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_healthy(process: subprocess.Popen[bytes], base_url: str, log: Path) -> float:
    """Seconds until GET /health answered 200; raises if the server dies or stalls."""
    started = time.perf_counter()
    while time.perf_counter() - started < HEALTH_TIMEOUT:
        if process.poll() is not None:
            raise RuntimeError(f"server exited {process.returncode}:\n{log_tail(log)}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                return time.perf_counter() - started
        time.sleep(0.1)
    raise RuntimeError(f"/health not 200 after {HEALTH_TIMEOUT} s:\n{log_tail(log)}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass(frozen=True)
class Server:
    base_url: str
    startup: float
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU the server process has used so far (Linux /proc)."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat.rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def running_server(env: dict[str, str], log: Path) -> Iterator[Server]:
    """Yield the server once /health answers 200; always stop it."""
    base_url = f"http://127.0.0.1:{env['JOBSTREAM_PORT']}"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(JOBSTREAM), "serve"], env=env, stdout=output, stderr=output
        )
        try:
            startup = wait_healthy(process, base_url, log)
            yield Server(base_url, startup, process.pid)
        finally:
            stop(process)


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one run, dropped (forcefully) afterwards."""
    name = f"jobstream_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_SERVER_URL.format(dbname=name)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def server_problems(log: Path) -> list[str]:
    """The server's warning-or-worse log lines (it logs JSON at level warning)."""
    return [line for line in log.read_text(errors="replace").splitlines() if line]


# --------------------------------------------------------------------------- load


Request = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


async def drive(
    client: httpx.AsyncClient,
    concurrency: int,
    count: int,
    request: Request,
    expected: int = 200,
) -> tuple[Sample, list[httpx.Response]]:
    """Send `count` requests from `concurrency` workers; time each one."""
    sample = Sample()
    answers: list[httpx.Response] = []
    indexes = iter(range(count))

    async def worker() -> None:
        for i in indexes:
            started = time.perf_counter()
            try:
                response = await request(client, i)
            except httpx.HTTPError as error:
                sample.failures[type(error).__name__] += 1
                continue
            if response.status_code == expected:
                sample.latencies.append(time.perf_counter() - started)
                answers.append(response)
            else:
                sample.failures[f"HTTP {response.status_code}"] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    sample.elapsed = time.perf_counter() - started
    return sample, answers


def create_body(*, dry_run: bool) -> dict[str, Any]:
    return {"type": BATCH_TYPE, "context": {}, "dry_run": dry_run}


async def create(client: httpx.AsyncClient, *, dry_run: bool) -> httpx.Response:
    return await client.post("/admin/batch-jobs", json=create_body(dry_run=dry_run))


async def verify_strategy(client: httpx.AsyncClient) -> None:
    response = await create(client, dry_run=True)
    if response.status_code != 201:
        raise RuntimeError(
            f"create {BATCH_TYPE} answered {response.status_code}: {response.text}"
        )


async def bench_creates(
    client: httpx.AsyncClient, concurrency: int, jobs: int
) -> tuple[Sample, list[str]]:
    async def request(c: httpx.AsyncClient, _: int) -> httpx.Response:
        return await create(c, dry_run=True)

    sample, answers = await drive(client, concurrency, jobs, request, expected=201)
    return sample, [r.json()["batch_job"]["id"] for r in answers]


async def bench_gets(
    client: httpx.AsyncClient, concurrency: int, gets: int, ids: list[str]
) -> Sample:
    async def request(c: httpx.AsyncClient, _: int) -> httpx.Response:
        return await c.get(f"/admin/batch-jobs/{random.choice(ids)}")

    sample, _ = await drive(client, concurrency, gets, request)
    return sample


async def bench_list_pages(
    client: httpx.AsyncClient, concurrency: int, count: int, jobs: int
) -> Sample:
    async def request(c: httpx.AsyncClient, _: int) -> httpx.Response:
        offset = random.randint(0, max(0, jobs - 10))
        return await c.get("/admin/batch-jobs", params={"limit": 10, "offset": offset})

    sample, _ = await drive(client, concurrency, count, request)
    return sample


async def bench_list_recent(
    client: httpx.AsyncClient, concurrency: int, count: int
) -> Sample:
    since = str(int(time.time()) - 3600)
    params = {"limit": "100", "created_at[gte]": since}

    async def request(c: httpx.AsyncClient, _: int) -> httpx.Response:
        return await c.get("/admin/batch-jobs", params=params)

    sample, answers = await drive(client, concurrency, count, request)
    if answers and len(answers[0].json()["batch_jobs"]) != 100:
        sample.failures["fewer than 100 rows"] += 1
    return sample


async def until_completed(client: httpx.AsyncClient, job_id: str) -> str:
    """Poll every POLL_INTERVAL until the job ends; return its final status."""
    deadline = time.perf_counter() + COMPLETION_TIMEOUT
    while time.perf_counter() < deadline:
        await asyncio.sleep(POLL_INTERVAL)
        response = await client.get(f"/admin/batch-jobs/{job_id}")
        if response.status_code != 200:
            return f"GET HTTP {response.status_code}"
        status: str = response.json()["batch_job"]["status"]
        if status in {"completed", "failed", "canceled"}:
            return status
    return "timeout"


async def bench_completion(
    client: httpx.AsyncClient, concurrency: int, jobs: int
) -> Sample:
    """Create-to-completed time of real (non dry-run) jobs, polling each one."""
    sample = Sample()
    indexes = iter(range(jobs))

    async def worker() -> None:
        for _ in indexes:
            started = time.perf_counter()
            response = await create(client, dry_run=False)
            if response.status_code != 201:
                sample.failures[f"create HTTP {response.status_code}"] += 1
                continue
            job_id = response.json()["batch_job"]["id"]
            outcome = await until_completed(client, job_id)
            if outcome == "completed":
                sample.latencies.append(time.perf_counter() - started)
            else:
                sample.failures[outcome] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    sample.elapsed = time.perf_counter() - started
    return sample


# --------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class Params:
    jobs: int
    gets: int
    lists: int
    completions: int
    concurrency: int
    backends: tuple[str, ...]


@dataclass(frozen=True)
class Measured:
    startup: float
    cpu: str
    creates: Sample
    gets: Sample
    pages: Sample
    recent: Sample
    completion: Sample


async def measure_api(base_url: str, params: Params) -> Measured:
    limits = httpx.Limits(max_connections=params.concurrency)
    async with httpx.AsyncClient(
        base_url=base_url, headers=HEADERS, limits=limits, timeout=60
    ) as client:
        await verify_strategy(client)
        creates, ids = await bench_creates(client, params.concurrency, params.jobs)
        if not ids:
            raise RuntimeError(f"no create succeeded: {dict(creates.failures)}")
        gets = await bench_gets(client, params.concurrency, params.gets, ids)
        pages = await bench_list_pages(
            client, params.concurrency, params.lists, params.jobs
        )
        recent = await bench_list_recent(client, params.concurrency, params.lists)
        completion = await bench_completion(
            client, params.concurrency, params.completions
        )
    return Measured(0.0, "", creates, gets, pages, recent, completion)


def measure_server(server: Server, params: Params) -> Measured:
    """The API figures, with the CPU both sides used while they were taken."""
    wall, client, served = (
        time.perf_counter(),
        time.process_time(),
        server.cpu_seconds(),
    )
    measured = asyncio.run(measure_api(server.base_url, params))
    wall = time.perf_counter() - wall
    client = time.process_time() - client
    served = server.cpu_seconds() - served
    cpu = (
        f"jobstream {served:.1f} s, load generator {client:.1f} s "
        f"of {wall:.1f} s wall x {len(os.sched_getaffinity(0))} cores"
    )
    return dataclasses.replace(measured, startup=server.startup, cpu=cpu)


def report_rows(measured: Measured, baseline: str, params: Params) -> list[Row]:
    c = params.concurrency
    done = measured.completion
    return [
        Row("startup to /health 200", f"{measured.startup:.1f} s", ""),
        Row("CPU used during the API phases", measured.cpu, ""),
        Row(
            f"create dry-run ({c} clients)",
            rate_and_latency(measured.creates, "jobs/s")
            + failures_note(measured.creates),
            f"{baseline}; {MEDUSA_CREATE}",
        ),
        Row(
            f"GET by id ({c} clients)",
            rate_and_latency(measured.gets, "req/s") + failures_note(measured.gets),
            MEDUSA_GET,
        ),
        Row(
            "list limit=10 random offset",
            rate_and_latency(measured.pages, "req/s") + failures_note(measured.pages),
            "",
        ),
        Row(
            "list limit=100 created_at[gte]",
            rate_and_latency(measured.recent, "req/s") + failures_note(measured.recent),
            "",
        ),
        Row(
            f"create->completed ({params.completions} jobs)",
            f"mean {ms(done.mean)}  p50 {ms(done.quantile(0.5))}"
            f"  p99 {ms(done.quantile(0.99))}  ({done.rate:,.0f} jobs/s)"
            + failures_note(done),
            MEDUSA_COMPLETED,
        ),
    ]


def run_backend(backend: str, params: Params) -> None:
    with tempfile.TemporaryDirectory(prefix=f"jobstream-bench-{backend}-") as tmp:
        scratch = Path(tmp)
        (scratch / "entry_points").mkdir()
        write_entry_point(scratch / "entry_points")
        with contextlib.ExitStack() as stack:
            database_url = None
            if backend == "postgres":
                database_url = stack.enter_context(scratch_database())
                rows_per_s = postgres_baseline(
                    database_url, params.jobs, params.concurrency
                )
                baseline = f"raw psycopg insert {rows_per_s:,.0f} rows/s"
            else:
                rows_per_s = sqlite_baseline(scratch, params.jobs, params.concurrency)
                baseline = f"raw sqlite insert {rows_per_s:,.0f} rows/s"
            env = server_env(scratch, free_port(), database_url)
            create_user(env)
            log = scratch / "server.log"
            try:
                with running_server(env, log) as server:
                    measured = measure_server(server, params)
            finally:
                problems = server_problems(log) if log.exists() else []
        print_table(backend, report_rows(measured, baseline, params))
        print_problems(backend, problems)


def print_problems(backend: str, problems: list[str]) -> None:
    if not problems:
        print(f"{backend}: server logged nothing at warning or above")
        return
    print(f"{backend}: server logged {len(problems)} line(s) at warning or above:")
    for line in problems[:5]:
        print(f"  {line[:300]}")


def parse_args(argv: Sequence[str] | None) -> Params:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2000, help="dry-run creates")
    parser.add_argument("--gets", type=int, default=4000, help="GET-by-id requests")
    parser.add_argument("--lists", type=int, default=1000, help="requests per list")
    parser.add_argument(
        "--completions", type=int, default=200, help="jobs timed to completed"
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    args = parser.parse_args(argv)
    backends = tuple(b.strip() for b in args.backends.split(",") if b.strip())
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    if args.jobs < 10 or min(args.gets, args.lists, args.concurrency) < 1:
        parser.error("--jobs must be >= 10; --gets, --lists, --concurrency >= 1")
    return Params(
        args.jobs, args.gets, args.lists, args.completions, args.concurrency, backends
    )


def main(argv: Sequence[str] | None = None) -> int:
    params = parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # figures show up as they come
    print(
        f"machine: nproc={len(os.sched_getaffinity(0))} (load generator and server share them), "
        f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}"
    )
    print(
        f"params: jobs={params.jobs} gets={params.gets} lists={params.lists} "
        f"completions={params.completions} concurrency={params.concurrency} "
        f"backends={','.join(params.backends)}"
    )
    started = time.perf_counter()
    for backend in params.backends:
        print()
        run_backend(backend, params)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
