"""Pipeline benchmark: no-op jobs through API, event store, relay, JetStream and workers.

For each worker count (`--workers`, 1 and 2) it creates a fresh PostgreSQL database and
a fresh JetStream stream, subject prefix and durable consumers on a nats-server of its
own, then starts as subprocesses: the Admin API without its in-process processor
(`api_only.py`), one `jobstream relay`, then the `jobstream worker` processes, one after
another (each once its NATS connection shows in the server's /connz: they create their
tables before connecting, and simultaneous start-up DDL can fail). A job goes API ->
event store -> relay -> JetStream -> worker -> event store -> projection, until
`GET /admin/batch-jobs/{id}` shows `completed`. Then, from the same run, the embedded
path: `jobstream serve` on SQLite (processor in-process, no NATS).

Every path gets the same load: a first job alone (cold), then `--jobs` non-dry-run
`bench-noop` jobs from `--concurrency` httpx clients, each creating a job and polling
it every 5 ms until `completed` (jobs/s = completed jobs / wall time from the first
create to the last completed; create->completed p50/p99), then `--single` jobs one at
a time. Medusa v1's reference sits beside the latencies. After the table: the CPU each
process used, the gaps between each job's server-side stamps (where the time went),
the GET polls' latency, JetStream's delivery counters and any warning a process logged.

Run: `.venv/bin/python bench/pipeline.py [--jobs N] [--workers 1,2]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import itertools
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import nats
from api_lifecycle import (
    JOBSTREAM,
    POLL_INTERVAL,
    REPO,
    STOP_TIMEOUT,
    Row,
    Sample,
    client_for,
    create,
    create_user,
    failures_note,
    free_port,
    log_tail,
    ms,
    scratch_database,
    server_env,
    wait_healthy,
    write_entry_point,
)
from nats_server import NatsServer, nats_server_version, running_nats

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

PYTHON = REPO / ".venv" / "bin" / "python"
API_ONLY = REPO / "bench" / "api_only.py"
COLD_TIMEOUT = 30.0  # the first job, once every process is up
JOB_TIMEOUT = 30.0  # a job not completed by then counts as stuck
MAX_FAILURES = 32  # stop creating jobs once this many went wrong
FINAL = frozenset({"completed", "failed", "canceled"})
# A completed job's server-side stamps, in order (pre_processed = confirmed: one save).
STAMPS = ("created_at", "pre_processed_at", "processing_at", "completed_at")
# uvicorn re-raises the SIGTERM it handled once it has shut down gracefully.
CLEAN_EXITS = frozenset({0, -signal.SIGTERM})
WORK_CONSUMERS = ("batch-created", "batch-confirmed")  # durable suffixes (worker.py)

MEDUSA_POLLS = "Medusa v1 >= 6 s: two 3 s outbox polls per job (reference spec §2.4)"
MEDUSA_EXPORT = "Medusa: 6 s from create to completed for a 1-product export"


# --------------------------------------------------------------------------- processes


def cpu_seconds(pid: int) -> float:
    """User + system CPU a live process has used (Linux /proc); NaN once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return math.nan
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Spawned:
    role: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Fleet:
    """The subprocesses of one configuration, each logging to a file of its own."""

    directory: Path
    env: dict[str, str]
    members: list[Spawned] = field(default_factory=list)
    exits: list[str] = field(default_factory=list)

    def spawn(self, role: str, command: Sequence[str | Path]) -> Spawned:
        log = self.directory / f"{role}-{len(self.members)}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [str(part) for part in command],
                env=self.env,
                stdout=output,
                stderr=output,
            )
        member = Spawned(role, process, log)
        self.members.append(member)
        return member

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far, summed by role."""
        used: dict[str, float] = {}
        for member in self.members:
            pid = member.process.pid
            used[member.role] = used.get(member.role, 0.0) + cpu_seconds(pid)
        return used

    def died(self) -> list[str]:
        return [
            f"{m.log.stem} exited {m.process.returncode}:\n{log_tail(m.log)}"
            for m in self.members
            if m.process.poll() is not None
        ]

    def stop(self) -> None:
        """SIGTERM to all at once; kill whoever is still there after STOP_TIMEOUT."""
        running = [m for m in self.members if m.process.poll() is None]
        for member in self.members:
            if member.process.poll() is not None:
                self.exits.append(
                    f"{member.log.stem} had exited {member.process.returncode} "
                    "before the stop"
                )
        for member in running:
            member.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for member in running:
            try:
                code = member.process.wait(
                    timeout=max(0.1, deadline - time.monotonic())
                )
            except subprocess.TimeoutExpired:
                member.process.kill()
                member.process.wait()
                self.exits.append(f"{member.log.stem} ignored SIGTERM: killed")
                continue
            if code not in CLEAN_EXITS:
                self.exits.append(f"{member.log.stem} exited {code} on SIGTERM")

    def problems(self) -> list[str]:
        """Log lines at warning or above (the level every process runs at)."""
        lines = [
            f"{member.log.stem}: {line}"
            for member in self.members
            for line in member.log.read_text(errors="replace").splitlines()
            if line.strip()
        ]
        return self.exits + lines


@contextlib.contextmanager
def running_fleet(directory: Path, env: dict[str, str]) -> Iterator[Fleet]:
    fleet = Fleet(directory, env)
    try:
        yield fleet
    finally:
        fleet.stop()


# --------------------------------------------------------------------------- load


@dataclass
class Load:
    """Create->completed latencies, the failures, and the wall time they spanned.

    Also each GET poll's latency, and for each completed job the gaps between its
    server-side stamps (`stages`), to show where the time went.
    """

    sample: Sample = field(default_factory=Sample)
    gets: Sample = field(default_factory=Sample)
    stages: dict[str, Sample] = field(default_factory=dict)
    first_create: float = math.inf
    last_completed: float = -math.inf

    def finish(self) -> Load:
        if self.sample.latencies:
            self.sample.elapsed = self.last_completed - self.first_create
        return self

    @property
    def failed(self) -> int:
        return sum(self.sample.failures.values())

    def record_stages(self, job: dict[str, Any], seen: datetime) -> None:
        """The gaps between a completed job's stamps (milliseconds, server clock)."""
        stamps = {name: datetime.fromisoformat(job[name]) for name in STAMPS}
        stamps["seen by GET"] = seen
        names = list(stamps)
        for before, after in itertools.pairwise(names):
            gap = (stamps[after] - stamps[before]).total_seconds()
            stage = after.removesuffix("_at")
            self.stages.setdefault(stage, Sample()).latencies.append(gap)


async def until_final(
    client: httpx.AsyncClient, job_id: str, load: Load, patience: float
) -> tuple[str, dict[str, Any]]:
    """Poll every POLL_INTERVAL until the job ends: its status (or what went wrong)."""
    deadline = time.perf_counter() + patience
    job: dict[str, Any] = {"status": "unseen"}
    while time.perf_counter() < deadline:
        await asyncio.sleep(POLL_INTERVAL)
        started = time.perf_counter()
        response = await client.get(f"/admin/batch-jobs/{job_id}")
        if response.status_code != 200:
            load.gets.failures[f"HTTP {response.status_code}"] += 1
            return f"GET HTTP {response.status_code}", job
        load.gets.latencies.append(time.perf_counter() - started)
        job = response.json()["batch_job"]
        if job["status"] in FINAL:
            return str(job["status"]), job
    return f"stuck in {job['status']} after {patience:.0f} s", job


async def one_job(client: httpx.AsyncClient, load: Load, patience: float) -> None:
    started = time.perf_counter()
    load.first_create = min(load.first_create, started)
    try:
        response = await create(client, dry_run=False)
        if response.status_code != 201:
            load.sample.failures[f"create HTTP {response.status_code}"] += 1
            return
        outcome, job = await until_final(
            client, response.json()["batch_job"]["id"], load, patience
        )
    except httpx.HTTPError as error:
        load.sample.failures[type(error).__name__] += 1
        return
    if outcome != "completed":
        load.sample.failures[outcome] += 1
        return
    done = time.perf_counter()
    load.sample.latencies.append(done - started)
    load.last_completed = max(load.last_completed, done)
    load.record_stages(job, datetime.now(UTC))


async def run_jobs(
    base_url: str, concurrency: int, jobs: int, patience: float = JOB_TIMEOUT
) -> Load:
    """`jobs` jobs from `concurrency` clients, each creating one then polling it."""
    load = Load()
    indexes = iter(range(jobs))

    async def client_loop(client: httpx.AsyncClient) -> None:
        for _ in indexes:
            if load.failed >= MAX_FAILURES:
                return
            await one_job(client, load, patience)

    async with client_for(base_url, concurrency) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
    return load.finish()


# --------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class Params:
    jobs: int
    concurrency: int
    single: int
    workers: tuple[int, ...]
    worker_concurrency: int


@dataclass(frozen=True)
class Measured:
    startup: float
    cold: Load
    load: Load
    single: Load
    cpu: str


@dataclass(frozen=True)
class Outcome:
    path: str
    measured: Measured
    problems: list[str]
    notes: list[str]


def machine_ticks() -> tuple[int, int]:
    """Busy and total CPU ticks of the whole machine so far (/proc/stat)."""
    first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(value) for value in first]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return sum(ticks) - idle, sum(ticks)


def describe_cpu(used: dict[str, float], bench: float, wall: float, busy: float) -> str:
    roles = ", ".join(f"{role} {seconds:.1f} s" for role, seconds in used.items())
    cores = len(os.sched_getaffinity(0))
    return (
        f"{roles}, bench (httpx) {bench:.1f} s; over {wall:.1f} s wall x {cores} cores;"
        f" the machine (every process on it) busy {busy:.0%}"
    )


def measure(fleet: Fleet, base_url: str, startup: float, params: Params) -> Measured:
    """The cold job, the concurrent load (with the CPU it cost), the one-at-a-time jobs."""
    cold = asyncio.run(run_jobs(base_url, 1, 1, patience=COLD_TIMEOUT))
    if not cold.sample.latencies:
        details = "\n".join(fleet.died()) or "every process is still running"
        raise RuntimeError(
            f"the first job did not complete ({dict(cold.sample.failures)}); {details}"
        )
    cpu_before, own_before = fleet.cpu(), time.process_time()
    busy_before, total_before = machine_ticks()
    wall = time.perf_counter()
    load = asyncio.run(run_jobs(base_url, params.concurrency, params.jobs))
    wall = time.perf_counter() - wall
    busy, total = machine_ticks()
    used = {role: s - cpu_before.get(role, 0.0) for role, s in fleet.cpu().items()}
    share = (busy - busy_before) / max(1, total - total_before)
    cpu = describe_cpu(used, time.process_time() - own_before, wall, share)
    single = asyncio.run(run_jobs(base_url, 1, params.single))
    return Measured(startup, cold, load, single, cpu)


def config_directory(root: Path, name: str) -> Path:
    """A directory of its own, holding the fake dist-info that registers bench-noop."""
    directory = root / name
    (directory / "entry_points").mkdir(parents=True)
    write_entry_point(directory / "entry_points")
    return directory


def nats_env(nats_url: str, params: Params) -> dict[str, str]:
    """A stream, subject prefix and durables no other configuration shares."""
    tag = uuid.uuid4().hex[:8]
    return {
        "JOBSTREAM_NATS_URL": nats_url,
        "JOBSTREAM_NATS_STREAM": f"BENCH_{tag}",
        "JOBSTREAM_NATS_SUBJECT_PREFIX": f"bench{tag}",
        "JOBSTREAM_WORKER_DURABLE": f"bench-{tag}",
        "JOBSTREAM_WORKER_CONCURRENCY": str(params.worker_concurrency),
    }


async def jetstream_state(env: dict[str, str]) -> str:
    """The stream's message count and each work consumer's delivery counters."""
    stream, durable = env["JOBSTREAM_NATS_STREAM"], env["JOBSTREAM_WORKER_DURABLE"]
    connection = await nats.connect(env["JOBSTREAM_NATS_URL"])
    try:
        js = connection.jetstream()
        info = await js.stream_info(stream)
        parts = [f"stream {stream}: {info.state.messages} messages"]
        for suffix in WORK_CONSUMERS:
            consumer = await js.consumer_info(stream, f"{durable}-{suffix}")
            parts.append(
                f"{suffix}: delivered {consumer.delivered.consumer_seq}, "
                f"redelivered {consumer.num_redelivered}, "
                f"ack pending {consumer.num_ack_pending}, pending {consumer.num_pending}"
            )
    finally:
        await connection.close()
    return "; ".join(parts)


def run_distributed(
    root: Path, server: NatsServer, workers: int, params: Params
) -> Outcome:
    path = f"nats {workers}w"
    directory = config_directory(root, f"nats-{workers}")
    with scratch_database() as database_url:
        env = server_env(directory, free_port(), database_url)
        env |= nats_env(server.url, params)
        create_user(env)
        base_url = f"http://127.0.0.1:{env['JOBSTREAM_PORT']}"
        with running_fleet(directory, env) as fleet:
            api = fleet.spawn("api", [PYTHON, API_ONLY])
            startup = wait_healthy(api.process, base_url, api.log)
            relay = fleet.spawn("relay", [JOBSTREAM, "relay"])
            server.wait_connected(relay, "jobstream-relay", 1)
            for started in range(1, workers + 1):
                worker = fleet.spawn("worker", [JOBSTREAM, "worker"])
                server.wait_connected(worker, "jobstream-worker", started)
            measured = measure(fleet, base_url, startup, params)
            state = asyncio.run(jetstream_state(env))
        notes = [
            f"database {database_url.rsplit('/', 1)[1]}, dropped after the run",
            state,
        ]
    return Outcome(path, measured, fleet.problems(), notes)


def run_embedded(root: Path, params: Params) -> Outcome:
    directory = config_directory(root, "embedded")
    env = server_env(directory, free_port(), None)
    create_user(env)
    base_url = f"http://127.0.0.1:{env['JOBSTREAM_PORT']}"
    with running_fleet(directory, env) as fleet:
        server = fleet.spawn("serve", [JOBSTREAM, "serve"])
        startup = wait_healthy(server.process, base_url, server.log)
        measured = measure(fleet, base_url, startup, params)
    return Outcome("embedded", measured, fleet.problems(), ["SQLite, no NATS"])


# --------------------------------------------------------------------------- report


def latency_value(load: Load, *, with_rate: bool) -> str:
    sample = load.sample
    value = f"p50 {ms(sample.quantile(0.5))}  p99 {ms(sample.quantile(0.99))}"
    value += f"  max {ms(max(sample.latencies, default=math.nan))}"
    if with_rate:
        value = (
            f"{sample.rate:,.0f} jobs/s ({len(sample.latencies)} in "
            f"{sample.elapsed:.1f} s)  " + value
        )
    return value + failures_note(sample.failures)


def report_rows(measured: Measured, params: Params) -> list[Row]:
    n, c = params.jobs, params.concurrency
    return [
        Row("API startup to /health 200", f"{measured.startup:.1f} s", ""),
        Row(
            "first job create->completed (cold)",
            ms(measured.cold.sample.mean)
            + failures_note(measured.cold.sample.failures),
            "",
        ),
        Row(
            f"{n} jobs, {c} clients: create->completed",
            latency_value(measured.load, with_rate=True),
            MEDUSA_POLLS,
        ),
        Row(
            f"{params.single} jobs, 1 at a time: create->completed",
            latency_value(measured.single, with_rate=False),
            MEDUSA_EXPORT,
        ),
    ]


def print_table(outcomes: Sequence[Outcome], params: Params) -> None:
    """One line per path and metric, the paths of each metric side by side."""
    tables = [report_rows(o.measured, params) for o in outcomes]
    lines = [("metric", "path", "value", "reference")]
    for i, first in enumerate(tables[0]):
        for j, (outcome, rows) in enumerate(zip(outcomes, tables, strict=True)):
            metric, reference = (first.metric, first.reference) if j == 0 else ("", "")
            lines.append((metric, outcome.path, rows[i].value, reference))
    widths = [max(len(line[k]) for line in lines) for k in range(3)]
    for line in lines:
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        print(f"{'  '.join(cells)}  {line[3]}".rstrip())


def quantiles(sample: Sample) -> str:
    return f"{ms(sample.quantile(0.5))} / {ms(sample.quantile(0.99))}"


def print_details(outcome: Outcome, params: Params) -> None:
    path, measured, load = outcome.path, outcome.measured, outcome.measured.load
    print(f"{path}: {'; '.join(outcome.notes)}")
    print(f"{path}: CPU during the {params.jobs} jobs: {measured.cpu}")
    stages = ", ".join(
        f"->{stage} {quantiles(sample)}" for stage, sample in load.stages.items()
    )
    print(f"{path}: where the {params.jobs} jobs' time went, p50 / p99: {stages}")
    gets = load.gets
    print(
        f"{path}: GET polls during the {params.jobs} jobs: {len(gets.latencies):,}"
        f" answered, p50 / p99 {quantiles(gets)}" + failures_note(gets.failures)
    )
    if not outcome.problems:
        print(
            f"{path}: nothing logged at warning or above; every process stopped cleanly"
        )
        return
    print(f"{path}: {len(outcome.problems)} problem line(s):")
    for line in outcome.problems[:8]:
        print(f"  {line[:300]}")


def parse_workers(text: str) -> tuple[int, ...]:
    counts = tuple(int(part) for part in text.split(",") if part.strip())
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of counts >= 1")
    return counts


def parse_args(argv: Sequence[str] | None) -> Params:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=500, help="jobs under load")
    parser.add_argument("--concurrency", type=int, default=16, help="httpx clients")
    parser.add_argument(
        "--single", type=int, default=10, help="jobs timed one at a time"
    )
    parser.add_argument(
        "--workers",
        type=parse_workers,
        default=(1, 2),
        help="worker process counts, one configuration each (1,2)",
    )
    parser.add_argument(
        "--worker-concurrency",
        type=int,
        default=4,
        help="JOBSTREAM_WORKER_CONCURRENCY: jobs a worker runs at once (4)",
    )
    args = parser.parse_args(argv)
    if min(args.jobs, args.concurrency, args.single, args.worker_concurrency) < 1:
        parser.error("--jobs, --concurrency, --single, --worker-concurrency: >= 1")
    return Params(
        args.jobs, args.concurrency, args.single, args.workers, args.worker_concurrency
    )


def main(argv: Sequence[str] | None = None) -> int:
    params = parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    print(
        f"machine: nproc={len(os.sched_getaffinity(0))} (every process shares them), "
        f"python {sys.version.split()[0]}, {nats_server_version()}"
    )
    print(
        f"params: jobs={params.jobs} concurrency={params.concurrency} "
        f"single={params.single} workers={','.join(map(str, params.workers))} "
        f"worker_concurrency={params.worker_concurrency} "
        f"poll every {POLL_INTERVAL * 1000:.0f} ms"
    )
    started = time.perf_counter()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="jobstream-pipeline-") as tmp:
        root = Path(tmp)
        with running_nats(root) as server:
            for workers in params.workers:
                outcomes.append(run_distributed(root, server, workers, params))
                print(f"done: nats {workers}w ({time.perf_counter() - started:.0f} s)")
        outcomes.append(run_embedded(root, params))
        print(f"done: embedded ({time.perf_counter() - started:.0f} s)")
    print()
    print_table(outcomes, params)
    print()
    for outcome in outcomes:
        print_details(outcome, params)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
