"""Memory soak: the real `jobstream serve` under a steady mixed load, RSS sampled.

Issue 12's target: RSS over a 10-minute soak at half the sustained rate stays flat
(<= 10% growth). The bench starts `jobstream serve` (embedded, or `--backend
postgres` on a scratch database), measures the sustained no-op job rate with the
wrk phase of `api_lifecycle.py` (`--measure-seconds` of creates from 16 connections,
then until every job is done) unless `--rate` gives it, then drives half of it for a
warm-up and `--minutes`: an open-loop httpx generator sends no-op job creates at that
rate, with GETs by id (`--gets-per-job`) and list pages (`--lists-per-job`) beside
them. Every `--sample-every` seconds it reads VmRSS of the server's processes (the
primary and its forked HTTP workers) from /proc and the job counts from
`GET /admin/jobstream/jobs`. It prints one row a minute, then the growth of the mean
total RSS from the first minute after the warm-up to the last, against the target.

Run: `.venv/bin/python bench/soak.py [--minutes 10] [--backend postgres] [--csv f]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import math
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from api_lifecycle import (
    BATCH_TYPE,
    HEADERS,
    CpuMeter,
    Server,
    Wrk,
    child_pids,
    create_body,
    create_user,
    drained_phase,
    free_port,
    job_counts,
    log_tail,
    print_problems,
    running_server,
    scratch_database,
    server_env,
    server_problems,
    write_entry_point,
    wrk_version,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator, Sequence

TARGET_GROWTH = 0.10  # issue 12: RSS flat, <= 10% growth
WINDOW = 60.0  # s: the first and the last minute compared (halves, if shorter)
MAX_IN_FLIGHT = 256  # requests; beyond it a due request is skipped and counted
RECENT_IDS = 1000  # the GETs by id draw from the newest created jobs
MEASURE_CONNECTIONS = 16  # wrk connections of the sustained-rate phase (issue 12's)
DRAIN_AFTER = 120.0  # s to wait for the backlog once the load stops


# --------------------------------------------------------------------------- RSS


def vm_rss_kib(status: str) -> int:
    """VmRSS (KiB) from the text of /proc/<pid>/status; 0 when it has none (zombie)."""
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def server_rss(primary: int) -> dict[int, int]:
    """VmRSS (KiB) of the server's primary process and of its live children."""
    found = {}
    for pid in (primary, *child_pids(primary)):
        with contextlib.suppress(OSError):
            found[pid] = vm_rss_kib(Path(f"/proc/{pid}/status").read_text())
    return found


@dataclass(frozen=True)
class RssSample:
    at: float  # s since the load started (the warm-up included), as scheduled
    rss_kib: dict[int, int]  # per server process
    completed: int  # jobs completed so far (every job the admin sees)
    backlog: int  # jobs created, pre-processed, confirmed or processing
    creates: int  # creates answered 201 so far
    failures: int  # requests that did not answer as expected so far
    skipped: int  # due requests not sent (MAX_IN_FLIGHT reached) so far
    server_cpu: float  # s, every server process so far

    @property
    def total_kib(self) -> int:
        return sum(self.rss_kib.values())


@dataclass(frozen=True)
class Growth:
    """Mean total RSS of the first and the last window of the soak, and the change."""

    first_kib: float
    last_kib: float
    first_samples: int
    last_samples: int
    window: float  # s

    @property
    def growth(self) -> float:
        return self.last_kib / self.first_kib - 1 if self.first_kib else math.nan

    @property
    def met(self) -> bool:
        return self.growth <= TARGET_GROWTH


def rss_growth(samples: Sequence[RssSample], start: float, end: float) -> Growth:
    """Compare the samples of [start, start + w) with those of (end - w, end].

    `w` is a minute, or half the soak when it is shorter, so a one-minute soak
    compares its halves. The warm-up (before `start`) is not counted.
    """
    window = min(WINDOW, (end - start) / 2)
    first = [s.total_kib for s in samples if start <= s.at < start + window]
    last = [s.total_kib for s in samples if end - window < s.at <= end]

    def mean(values: list[int]) -> float:
        return sum(values) / len(values) if values else math.nan

    return Growth(mean(first), mean(last), len(first), len(last), window)


def per_thousand_jobs(samples: Sequence[RssSample], start: float) -> str:
    """RSS added per 1,000 jobs completed, first sample after the warm-up to the last."""
    after = [s for s in samples if s.at >= start]
    if len(after) < 2 or after[-1].completed == after[0].completed:
        return "RSS per 1,000 jobs: no job completed after the warm-up"
    added = after[-1].total_kib - after[0].total_kib
    jobs = after[-1].completed - after[0].completed
    return (
        f"RSS {added / 1024:+,.1f} MiB over {jobs:,} jobs completed after the warm-up:"
        f" {added / jobs * 1000 / 1024:+,.2f} MiB per 1,000 jobs"
    )


def minute_of(at: float, warmup: float) -> int:
    """0 for the warm-up, then 1, 2, ... (a sample at a minute's end is that minute)."""
    return 0 if at <= warmup else math.ceil((at - warmup) / 60)


# --------------------------------------------------------------------------- load


@dataclass
class Load:
    """What the open-loop generator sent, by kind, with create latencies per minute."""

    sent: Counter[str] = field(default_factory=Counter)
    ok: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    skipped: int = 0
    in_flight: int = 0
    create_latencies: list[float] = field(default_factory=list)  # since last row
    ids: deque[str] = field(default_factory=lambda: deque(maxlen=RECENT_IDS))
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def failed(self) -> int:
        return sum(self.failures.values())


async def send(
    load: Load, kind: str, request: Awaitable[httpx.Response], expected: int
) -> None:
    started = time.perf_counter()
    load.sent[kind] += 1
    load.in_flight += 1
    try:
        response = await request
    except httpx.HTTPError as error:
        load.failures[f"{kind} {type(error).__name__}"] += 1
        return
    finally:
        load.in_flight -= 1
    if response.status_code != expected:
        load.failures[f"{kind} HTTP {response.status_code}"] += 1
        return
    load.ok[kind] += 1
    if kind == "create":
        load.create_latencies.append(time.perf_counter() - started)
        load.ids.append(response.json()["batch_job"]["id"])


async def open_loop(
    load: Load,
    rate: float,
    until: float,
    request: Callable[[], tuple[str, Awaitable[httpx.Response], int] | None],
) -> None:
    """Start a request every 1/rate s until `until` (loop time), however long each
    takes: a late request does not delay the next (open loop)."""
    if rate <= 0:
        return
    loop = asyncio.get_running_loop()
    interval, due = 1 / rate, loop.time()
    while due < until:
        await asyncio.sleep(max(0.0, due - loop.time()))
        due += interval
        if load.in_flight >= MAX_IN_FLIGHT:
            load.skipped += 1
            continue
        made = request()
        if made is None:
            continue
        task = asyncio.create_task(send(load, *made))
        load.tasks.add(task)
        task.add_done_callback(load.tasks.discard)


def requests_for(
    client: httpx.AsyncClient, load: Load
) -> dict[str, Callable[[], tuple[str, Awaitable[httpx.Response], int] | None]]:
    body = create_body(dry_run=False)

    def create() -> tuple[str, Awaitable[httpx.Response], int]:
        return "create", client.post("/admin/batch-jobs", json=body), 201

    def get() -> tuple[str, Awaitable[httpx.Response], int] | None:
        if not load.ids:
            return None
        job_id = random.choice(load.ids)
        return "get", client.get(f"/admin/batch-jobs/{job_id}"), 200

    def page() -> tuple[str, Awaitable[httpx.Response], int]:
        offset = random.randint(0, max(0, len(load.ids) - 10))
        params = {"limit": "10", "offset": str(offset)}
        return "list", client.get("/admin/batch-jobs", params=params), 200

    return {"create": create, "get": get, "list": page}


# --------------------------------------------------------------------------- soak


@dataclass(frozen=True)
class Params:
    backend: str
    minutes: float
    warmup: float
    rate: float | None  # creates/s; None: half the measured sustained rate
    measure_seconds: int
    gets_per_job: float
    lists_per_job: float
    sample_every: float
    workers: int
    csv_path: Path | None


def roles(pids: Sequence[int], primary: int) -> dict[int, str]:
    named = {primary: "primary"}
    workers = sorted(pid for pid in pids if pid != primary)
    named.update({pid: f"worker{i}" for i, pid in enumerate(workers, 1)})
    return named


def mib(kib: float) -> str:
    return f"{kib / 1024:,.1f}"


def in_ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.1f}ms"


def quantile(values: Sequence[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Table:
    """The per-minute rows, printed as each minute ends."""

    primary: int
    warmup: float
    names: dict[int, str] = field(default_factory=dict)
    previous: RssSample | None = None

    def header(self, first: RssSample) -> None:
        self.names = roles(list(first.rss_kib), self.primary)
        columns = [f"{name} MiB" for name in self.names.values()]
        print(
            f"{'minute':>7}  {'t s':>6}  "
            + "  ".join(f"{c:>13}" for c in columns)
            + f"  {'total MiB':>10}  {'completed':>9}  {'backlog':>7}"
            f"  {'creates/s':>9}  {'create p50':>10}  {'p99':>8}"
            f"  {'CPU ms/job':>10}  {'failed':>6}  {'skipped':>7}"
        )

    def row(self, sample: RssSample, load: Load) -> None:
        previous = self.previous
        self.previous = sample
        if previous is None:
            self.header(sample)
        span = sample.at - previous.at if previous else 0.0
        created = sample.creates - previous.creates if previous else sample.creates
        done = sample.completed - previous.completed if previous else 0
        cpu = sample.server_cpu - previous.server_cpu if previous else 0.0
        latencies, load.create_latencies = load.create_latencies, []
        minute = minute_of(sample.at, self.warmup)
        label = "warm-up" if minute == 0 else str(minute)
        cells = [
            f"{mib(sample.rss_kib[pid]) if pid in sample.rss_kib else '-':>13}"
            for pid in self.names
        ]
        print(
            f"{label:>7}  {sample.at:>6.0f}  "
            + "  ".join(cells)
            + f"  {mib(sample.total_kib):>10}  {sample.completed:>9,}"
            f"  {sample.backlog:>7,}  {created / span if span else 0.0:>9.1f}"
            f"  {in_ms(quantile(latencies, 0.5)):>10}"
            f"  {in_ms(quantile(latencies, 0.99)):>8}"
            f"  {f'{cpu / done * 1000:.1f}' if done else '-':>10}"
            f"  {sample.failures:>6}  {sample.skipped:>7}"
        )


def write_csv(
    path: Path, samples: Sequence[RssSample], primary: int, warmup: float
) -> None:
    pids = sorted({pid for s in samples for pid in s.rss_kib})
    names = roles(pids, primary)
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "t_s",
                "minute",
                *(f"rss_{names[pid]}_kib" for pid in pids),
                "rss_total_kib",
                "completed",
                "backlog",
                "creates",
                "failures",
                "skipped",
                "server_cpu_s",
            ]
        )
        for s in samples:
            writer.writerow(
                [
                    f"{s.at:.1f}",
                    minute_of(s.at, warmup),
                    *(s.rss_kib.get(pid, "") for pid in pids),
                    s.total_kib,
                    s.completed,
                    s.backlog,
                    s.creates,
                    s.failures,
                    s.skipped,
                    f"{s.server_cpu:.2f}",
                ]
            )


async def soak(server: Server, params: Params, rate: float) -> list[RssSample]:
    """The warm-up and the soak; a sample every `sample_every` s, a row a minute."""
    load = Load()
    samples: list[RssSample] = []
    table = Table(server.pid, params.warmup)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(
        base_url=server.base_url, headers=HEADERS, limits=limits, timeout=60
    ) as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        until = started + params.warmup + params.minutes * 60
        kinds = requests_for(client, load)
        rates = {
            "create": rate,
            "get": rate * params.gets_per_job,
            "list": rate * params.lists_per_job,
        }
        generators = [
            asyncio.create_task(open_loop(load, rates[kind], until, kinds[kind]))
            for kind in kinds
        ]
        with httpx.Client(
            base_url=server.base_url, headers=HEADERS, timeout=60
        ) as counts_client:
            end = params.warmup + params.minutes * 60
            tick = 0
            while True:
                at = tick * params.sample_every
                await asyncio.sleep(max(0.0, started + at - loop.time()))
                rss, cpu = server_rss(server.pid), server.cpu_seconds()
                counts = await asyncio.to_thread(job_counts, counts_client)
                sample = RssSample(
                    at=at,  # as scheduled, so that minutes line up
                    rss_kib=rss,
                    completed=counts.by_status.get("completed", 0),
                    backlog=counts.unfinished,
                    creates=load.ok["create"],
                    failures=load.failed(),
                    skipped=load.skipped,
                    server_cpu=cpu,
                )
                samples.append(sample)
                last = at + params.sample_every > end + 1e-6
                next_minute = minute_of(at + params.sample_every, params.warmup)
                if tick == 0 or last or next_minute != minute_of(at, params.warmup):
                    table.row(sample, load)
                if last:
                    break
                tick += 1
        await asyncio.gather(*generators)
        if load.tasks:
            await asyncio.wait(list(load.tasks), timeout=60)
    sent = ", ".join(f"{kind} {n:,}" for kind, n in load.sent.items())
    print(f"sent: {sent}; skipped (over {MAX_IN_FLIGHT} in flight): {load.skipped}")
    if load.failures:
        shown = ", ".join(f"{k} x{n}" for k, n in load.failures.most_common(5))
        print(f"failed: {shown}")
    return samples


def wait_drained(server: Server, timeout: float) -> tuple[int, float]:
    """Jobs still unfinished after `timeout` s at most (0: drained), and the wait."""
    started = time.perf_counter()
    with httpx.Client(base_url=server.base_url, headers=HEADERS, timeout=60) as client:
        while True:
            unfinished = job_counts(client).unfinished
            waited = time.perf_counter() - started
            if not unfinished or waited > timeout:
                return unfinished, waited
            time.sleep(0.25)


def sustained_rate(server: Server, params: Params, scratch: Path) -> float:
    wrk_path = shutil.which("wrk")
    if wrk_path is None:
        raise SystemExit("no wrk on PATH to measure the sustained rate: give --rate")
    wrk = Wrk(
        wrk_path, wrk_version(wrk_path), MEASURE_CONNECTIONS, params.measure_seconds
    )
    meter = CpuMeter(server)
    drained = drained_phase(wrk, server.base_url, scratch / "wrk", meter)
    print(
        f"sustained no-op job rate (wrk, {MEASURE_CONNECTIONS} conns,"
        f" {params.measure_seconds} s of creates, then drained): {drained.describe()};"
        f" server CPU {meter.served / max(1, drained.finished) * 1000:.1f} ms a job;"
        f" load average {load_average()}"
    )
    return drained.rate


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


@contextlib.contextmanager
def database(backend: str) -> Iterator[str | None]:
    if backend == "postgres":
        with scratch_database() as url:
            yield url
    else:
        yield None


def run(params: Params) -> int:
    with tempfile.TemporaryDirectory(prefix=f"jobstream-soak-{params.backend}-") as tmp:
        scratch = Path(tmp)
        (scratch / "entry_points").mkdir()
        write_entry_point(scratch / "entry_points")
        log = scratch / "server.log"
        with database(params.backend) as database_url:
            env = server_env(scratch, free_port(), database_url, params.workers)
            create_user(env)
            try:
                with running_server(env, log) as server:
                    print(f"startup to /health 200: {server.startup:.1f} s")
                    measured = params.rate is None
                    rate = (
                        sustained_rate(server, params, scratch) / 2
                        if params.rate is None
                        else params.rate
                    )
                    print(
                        f"soak: {rate:.1f} creates/s"
                        + (" (half the sustained rate)" if measured else " (--rate)")
                        + f" + {rate * params.gets_per_job:.1f} GETs by id/s"
                        f" + {rate * params.lists_per_job:.1f} list pages/s, open loop;"
                        f" {params.warmup:.0f} s warm-up, then {params.minutes:g} min;"
                        f" a sample every {params.sample_every:g} s"
                        f" (the row shows each minute's last)"
                    )
                    samples = asyncio.run(soak(server, params, rate))
                    unfinished, waited = wait_drained(server, DRAIN_AFTER)
                    print(
                        "after the load: "
                        + (
                            f"backlog drained in {waited:.1f} s"
                            if not unfinished
                            else f"{unfinished} jobs unfinished after {waited:.0f} s"
                        )
                        + f"; load average {load_average()}"
                    )
                    primary = server.pid
            except BaseException:
                if log.exists():
                    print(f"server log (tail):\n{log_tail(log)}")
                raise
            finally:
                problems = server_problems(log) if log.exists() else []
        start = params.warmup
        growth = rss_growth(samples, start, start + params.minutes * 60)
        verdict = "met" if growth.met else "NOT met"
        print(
            f"RSS (all server processes) mean over the first {growth.window:.0f} s"
            f" after the warm-up: {mib(growth.first_kib)} MiB ({growth.first_samples}"
            f" samples); over the last {growth.window:.0f} s: {mib(growth.last_kib)} MiB"
            f" ({growth.last_samples} samples): growth {growth.growth:+.1%}"
            f" (target <= {TARGET_GROWTH:.0%}): {verdict}"
        )
        print(per_thousand_jobs(samples, start))
        if params.csv_path is not None:
            write_csv(params.csv_path, samples, primary, params.warmup)
            print(f"samples written to {params.csv_path}")
        print_problems(params.backend, problems)
    return 0


def parse_args(argv: Sequence[str] | None) -> Params:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--backend", choices=("embedded", "postgres"), default="embedded"
    )
    parser.add_argument(
        "--minutes", type=float, default=10, help="of soak, after the warm-up"
    )
    parser.add_argument(
        "--warmup", type=float, default=30, help="s of load not compared"
    )
    parser.add_argument(
        "--rate",
        type=float,
        help="creates/s (default: half the measured sustained rate)",
    )
    parser.add_argument(
        "--measure-seconds",
        type=int,
        default=5,
        help="s of wrk creates measuring the rate",
    )
    parser.add_argument(
        "--gets-per-job", type=float, default=0.5, help="GETs by id a create"
    )
    parser.add_argument(
        "--lists-per-job", type=float, default=0.1, help="list pages a create"
    )
    parser.add_argument(
        "--sample-every", type=float, default=10, help="s between RSS reads"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="HTTP processes of the server (serve's default: one per core)",
    )
    parser.add_argument("--csv", type=Path, help="write every sample to this CSV file")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.warmup < 0 or args.sample_every <= 0:
        parser.error("--minutes and --sample-every must be > 0, --warmup >= 0")
    if args.rate is not None and args.rate <= 0:
        parser.error("--rate must be > 0")
    return Params(
        backend=args.backend,
        minutes=args.minutes,
        warmup=args.warmup,
        rate=args.rate,
        measure_seconds=max(1, args.measure_seconds),
        gets_per_job=max(0.0, args.gets_per_job),
        lists_per_job=max(0.0, args.lists_per_job),
        sample_every=args.sample_every,
        workers=max(1, args.workers),
        csv_path=args.csv,
    )


def main(argv: Sequence[str] | None = None) -> int:
    params = parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    print(
        f"machine: nproc={len(os.sched_getaffinity(0))} (load generator and server"
        f" share them), python {sys.version.split()[0]}; load average {load_average()}"
    )
    print(
        f"soak: backend={params.backend} http-workers={params.workers}"
        f" batch type {BATCH_TYPE}; target: RSS growth <= {TARGET_GROWTH:.0%}"
    )
    return run(params)


if __name__ == "__main__":
    sys.exit(main())
