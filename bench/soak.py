"""Memory soak: the real `jobstream serve` under a steady mixed load, RSS sampled.

Issue 12's target: RSS over a 10-minute soak at half the sustained rate stays flat
(<= 10% growth). The bench starts `jobstream serve` (embedded, or `--backend
postgres` on a scratch database, or `--backend postgres+nats` with a nats-server of
its own too), measures the sustained no-op job rate with the wrk phase of
`api_lifecycle.py` (`--measure-seconds` of creates from 16 connections, then until
every job is done) unless `--rate` gives it, then drives half of it for a warm-up
and `--minutes`. The load is wrk's, one process per kind of request (no-op job
creates at the rate, GETs by id at `--gets-per-job` times it, list pages at
`--lists-per-job` times it), each paced by a Lua `delay()` to its rate, run afresh
for the warm-up and for every minute so that each minute has wrk's own latency
histogram. Every `--sample-every` seconds the bench reads VmRSS of the server's
processes (the primary and its children: forked HTTP workers, the jobs process with
NATS) from /proc and the job counts from `GET /admin/jobstream/jobs`. It prints one
row a minute, then the growth of the mean total RSS from the first minute after the
warm-up to the last, against the target.

Run: `.venv/bin/python bench/soak.py [--minutes 10] [--backend postgres[+nats]] [--csv f]`.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

import httpx
from api_lifecycle import (
    BATCH_TYPE,
    HEADERS,
    WRK_TIMEOUT,
    CpuMeter,
    Server,
    Wrk,
    child_pids,
    children_cpu_seconds,
    create_body,
    create_user,
    drained_phase,
    free_port,
    job_counts,
    log_tail,
    lua_script,
    lua_string,
    print_problems,
    running_server,
    scratch_database,
    server_env,
    server_problems,
    unwind_on_sigterm,
    write_entry_point,
    wrk_version,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

TARGET_GROWTH = 0.10  # issue 12: RSS flat, <= 10% growth
WINDOW = 60.0  # s: the first and the last minute compared (halves, if shorter)
RECENT_IDS = 1000  # the GETs by id draw from the newest created jobs
MEASURE_CONNECTIONS = 16  # wrk connections of the sustained-rate phase (issue 12's)
DRAIN_AFTER = 120.0  # s to wait for the backlog once the load stops
SEGMENT = 60.0  # s: one wrk run per kind for the warm-up, then one per minute
WRK_THREADS = 1  # per wrk process: one event loop paces a few hundred requests/s
CONNECTION_SECONDS = 0.2  # s between one connection's requests, on schedule
MAX_CONNECTIONS = 64  # per kind: at most this many of its requests in flight
KINDS = ("create", "get", "list")
EXPECTED = {"create": 201, "get": 200, "list": 200}
PAGE = 10  # list pages: ?limit=10&offset=<random>


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
    # The counters below come from wrk, which reports when a run ends: they are
    # those of the runs finished by then (a sample at a minute's end includes it).
    creates: int  # creates answered 201 so far
    failures: int  # requests that did not answer as expected so far
    skipped: int  # due requests never sent (every connection was waiting) so far
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


def connections_for(rate: float) -> int:
    """wrk connections for one kind of request at `rate` a second.

    The connections share one schedule (see `_PACING`), so their number only caps
    the requests in flight: each connection sends about every CONNECTION_SECONDS
    while the server keeps up, so answers up to that slow keep the schedule. At
    least one a wrk thread, at most MAX_CONNECTIONS.
    """
    wanted = math.ceil(rate * CONNECTION_SECONDS)
    return max(WRK_THREADS, min(MAX_CONNECTIONS, wanted))


def slot_interval(rate: float, threads: int = WRK_THREADS) -> float:
    """s between the slots of one wrk thread: its threads share the rate."""
    return threads / rate


# One schedule per wrk thread, from its first delay(): slot k is due at
# start + k * interval. A connection ready to send claims the next slot and waits
# for it, so requests leave on time while a connection is free; a slot that came
# due while every connection was waiting for an answer leaves as soon as one is
# (the lag is recorded), and a slot not sent when the run ends is not sent.
# Latency is wrk's own (from the write to the answer), its histogram of the run.
_PACING = Template("""\
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } soak_timespec;
int clock_gettime(int clock_id, soak_timespec *tp);
]]
local timespec = ffi.new("soak_timespec")
local function now()
  ffi.C.clock_gettime(1, timespec) -- CLOCK_MONOTONIC
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) / 1e9
end

local interval = $interval
local expected = $expected
local start, slot = nil, 0
sent, answered, ok, max_lag, statuses = 0, 0, 0, 0, {}

function delay()
  local t = now()
  start = start or t
  local due = start + slot * interval
  slot = slot + 1
  if due <= t then
    max_lag = math.max(max_lag, t - due)
    return 0
  end
  return math.floor((due - t) * 1000)
end

function response(status, headers, body)
  answered = answered + 1
  if status == expected then
    ok = ok + 1
  else
    statuses[status] = (statuses[status] or 0) + 1
  end
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local sums, lag, seen = {sent = 0, answered = 0, ok = 0}, 0, {}
  for _, thread in ipairs(threads) do
    for name, n in pairs(sums) do
      sums[name] = n + thread:get(name)
    end
    lag = math.max(lag, thread:get("max_lag"))
    for status, n in pairs(thread:get("statuses")) do
      seen[status] = (seen[status] or 0) + n
    end
  end
  local unexpected = {}
  for status, n in pairs(seen) do
    unexpected[#unexpected + 1] = string.format('"%d":%d', status, n)
  end
  local errors = summary.errors
  io.write(string.format(
    'SOAK {"duration_us":%d,"sent":%d,"answered":%d,"ok":%d,"max_lag_s":%.6f,'
      .. '"p50_us":%d,"p99_us":%d,"statuses":{%s},"socket":{"connect":%d,'
      .. '"read":%d,"write":%d,"timeout":%d}}\\n',
    summary.duration, sums.sent, sums.answered, sums.ok, lag,
    latency:percentile(50), latency:percentile(99), table.concat(unexpected, ","),
    errors.connect, errors.read, errors.write, errors.timeout))
end
""")

_CREATE = """
local prepared
function init(args)
  prepared = wrk.format()
end

function request()
  sent = sent + 1
  return prepared
end
"""

_GET = Template("""
local ids = {
$ids
}
math.randomseed(os.time())

function request()
  sent = sent + 1
  return wrk.format(nil, "/admin/batch-jobs/" .. ids[math.random(#ids)])
end
""")

_LIST = Template("""
local max_offset = $max_offset
math.randomseed(os.time())

function request()
  sent = sent + 1
  local offset = math.random(0, max_offset)
  return wrk.format(nil, "/admin/batch-jobs?limit=$page&offset=" .. offset)
end
""")


def wrk_script(kind: str, rate: float, ids: Sequence[str] = ()) -> str:
    """The Lua script of one kind's wrk run at `rate` requests/s.

    GETs draw their ids from `ids` (the newest jobs), list pages their offsets
    from 0 to `len(ids) - PAGE`.
    """
    pacing = _PACING.substitute(
        interval=repr(slot_interval(rate)), expected=EXPECTED[kind]
    )
    if kind == "create":
        body = json.dumps(create_body(dry_run=False), separators=(",", ":"))
        return lua_script("POST", body, request=pacing + _CREATE)
    if kind == "get":
        if not ids:
            raise ValueError("GETs by id need ids")
        table = ",\n".join(f"  {lua_string(job_id)}" for job_id in ids)
        return lua_script("GET", request=pacing + _GET.substitute(ids=table))
    if kind == "list":
        last = max(0, len(ids) - PAGE)
        requests = _LIST.substitute(max_offset=last, page=PAGE)
        return lua_script("GET", request=pacing + requests)
    raise ValueError(f"unknown kind of request: {kind!r}")


_SOAK_LINE = re.compile(r"^SOAK (\{.*\})\s*$", re.MULTILINE)


@dataclass(frozen=True)
class WrkRun:
    """One kind's wrk run, from the line its script's `done()` prints."""

    kind: str
    rate: float  # asked, requests/s
    duration: float  # s, wrk's own: from its start to its threads' end
    sent: int
    answered: int
    ok: int  # answered with the expected status
    p50: float  # s, every answer (wrk's histogram of the run); nan: none
    p99: float
    max_lag: float  # s: the latest a request left after its slot
    failures: Counter[str]  # "HTTP <status>", "socket <error>"

    @property
    def skipped(self) -> int:
        """Slots due over the run that were never sent (one slot of slack for its
        edges: the schedule starts at the first connection, wrk's clock before)."""
        return max(0, math.floor(self.rate * self.duration) - 1 - self.sent)


def parse_run(kind: str, rate: float, output: str) -> WrkRun:
    found = _SOAK_LINE.search(output)
    if found is None:
        raise RuntimeError(f"no SOAK line in wrk's output:\n{output}")
    data = json.loads(found.group(1))
    failures: Counter[str] = Counter()
    for status, count in data["statuses"].items():
        failures[f"HTTP {status}"] += int(count)
    for error, count in data["socket"].items():
        if count:
            failures[f"socket {error}"] += int(count)
    answered = int(data["answered"])

    def seconds(us: Any) -> float:
        return int(us) / 1e6 if answered else math.nan

    return WrkRun(
        kind=kind,
        rate=rate,
        duration=int(data["duration_us"]) / 1e6,
        sent=int(data["sent"]),
        answered=answered,
        ok=int(data["ok"]),
        p50=seconds(data["p50_us"]),
        p99=seconds(data["p99_us"]),
        max_lag=float(data["max_lag_s"]),
        failures=failures,
    )


@dataclass(frozen=True)
class Segment:
    """The wrk runs (one per kind) from `start` to `end` s of the load, as planned."""

    start: float
    end: float
    runs: dict[str, WrkRun]

    def ok_per_second(self, kind: str) -> float:
        run = self.runs.get(kind)
        return run.ok / run.duration if run is not None and run.duration else 0.0


def segment_ends(warmup: float, minutes: float) -> list[float]:
    """Where the wrk runs end: the warm-up, then every minute (the last may be
    shorter, and at least 1 s: wrk runs whole seconds)."""
    end = warmup + minutes * 60
    ends = [warmup] if warmup > 0 else []
    minute = 1
    while (at := warmup + minute * SEGMENT) < end - 1:
        ends.append(at)
        minute += 1
    return [*ends, end]


def sample_times(every: float, ends: Sequence[float]) -> list[tuple[float, bool]]:
    """(s, starts or ends a wrk run): a sample every `every` s and at each end."""
    marks = dict.fromkeys([0.0, *ends], True)
    tick = 1
    while (at := round(tick * every, 6)) < ends[-1] - 1e-6:
        marks.setdefault(at, False)
        tick += 1
    return sorted(marks.items())


@dataclass
class Launched:
    """One segment's wrk processes, running."""

    start: float
    end: float
    processes: dict[str, tuple[subprocess.Popen[str], float]]  # kind: (wrk, rate)

    def collect(self, timeout: float) -> Segment:
        runs = {}
        for kind, (process, rate) in self.processes.items():
            out, err = process.communicate(timeout=timeout)
            if process.returncode != 0:
                raise RuntimeError(
                    f"wrk ({kind}) exited {process.returncode}:\n{out}{err}"
                )
            runs[kind] = parse_run(kind, rate, out + err)
        return Segment(self.start, self.end, runs)

    def kill(self) -> None:
        for process, _ in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()


@dataclass(frozen=True)
class Load:
    """Launches a segment's wrk runs: one process a kind, paced to its rate."""

    wrk: str
    base_url: str
    rates: Mapping[str, float]  # asked, requests/s by kind
    scripts: Path

    def command(self, kind: str, seconds: int, script: Path) -> list[str]:
        connections = connections_for(self.rates[kind])
        return [
            *(self.wrk, "-t", str(WRK_THREADS), "-c", str(connections)),
            *("-d", f"{seconds}s", "--timeout", WRK_TIMEOUT, "-s", str(script)),
            f"{self.base_url}/admin/batch-jobs",
        ]

    def launch(
        self, start: float, end: float, seconds: int, ids: Sequence[str]
    ) -> Launched:
        self.scripts.mkdir(exist_ok=True)
        launched = Launched(start, end, {})
        try:
            for kind in KINDS:
                rate = self.rates[kind]
                if rate <= 0 or (kind == "get" and not ids):
                    continue
                script = self.scripts / f"{kind}.lua"
                script.write_text(wrk_script(kind, rate, ids))
                process = subprocess.Popen(
                    self.command(kind, seconds, script),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                launched.processes[kind] = (process, rate)
        except BaseException:
            launched.kill()
            raise
        return launched


def newest_ids(client: httpx.Client) -> list[str]:
    """The ids of the RECENT_IDS newest batch jobs (the list's default order)."""
    params = {"limit": str(RECENT_IDS), "fields": "id"}
    response = client.get("/admin/batch-jobs", params=params)
    if response.status_code != 200:
        raise RuntimeError(f"listing ids answered {response.status_code}")
    return [job["id"] for job in response.json()["batch_jobs"]]


def wrk_totals(segments: Sequence[Segment]) -> tuple[int, int, int]:
    """Creates answered 201, failures and skipped slots over the runs so far."""
    runs = [run for segment in segments for run in segment.runs.values()]
    creates = sum(run.ok for run in runs if run.kind == "create")
    failures = sum(sum(run.failures.values()) for run in runs)
    return creates, failures, sum(run.skipped for run in runs)


def spread(values: Sequence[float]) -> str:
    """The lowest and the highest of the runs' figures (s), in ms."""
    known = [value for value in values if not math.isnan(value)]
    if not known:
        return "-"
    low, high = min(known) * 1000, max(known) * 1000
    return f"{low:.1f}ms" if low == high else f"{low:.1f}-{high:.1f}ms"


def load_summary(segments: Sequence[Segment], warmup: float) -> list[str]:
    """Asked against achieved, by kind, over the runs after the warm-up."""
    lines = []
    after = [s for s in segments if s.start >= warmup - 1e-6]
    for kind in KINDS:
        runs = [s.runs[kind] for s in after if kind in s.runs]
        duration = sum(run.duration for run in runs)
        if not duration:
            continue
        asked = sum(run.rate * run.duration for run in runs)
        failures: Counter[str] = sum((run.failures for run in runs), Counter())
        shown = ", ".join(f"{k} x{n}" for k, n in failures.most_common(5)) or "none"
        lines.append(
            f"{kind}: asked {asked / duration:.1f}/s, sent"
            f" {sum(run.sent for run in runs) / duration:.1f}/s, answered"
            f" {EXPECTED[kind]} {sum(run.ok for run in runs) / duration:.1f}/s"
            f" over {duration:.0f} s ({len(runs)} wrk run{'s' * (len(runs) > 1)}"
            f" of {connections_for(runs[0].rate)} connections);"
            f" skipped {sum(run.skipped for run in runs):,};"
            f" latest send {max(run.max_lag for run in runs) * 1000:.0f} ms after"
            f" its slot; p50 {spread([run.p50 for run in runs])}, p99"
            f" {spread([run.p99 for run in runs])} by run; failed: {shown}"
        )
    return lines


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


@dataclass
class Table:
    """The rows: at the start, then as the warm-up and each minute end."""

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
            f"  {'GET/s':>6}  {'list/s':>6}"
            f"  {'CPU ms/job':>10}  {'failed':>6}  {'skipped':>7}"
        )

    def row(self, sample: RssSample, segment: Segment | None) -> None:
        previous = self.previous
        self.previous = sample
        if previous is None:
            self.header(sample)
        done = sample.completed - previous.completed if previous else 0
        cpu = sample.server_cpu - previous.server_cpu if previous else 0.0
        creates = segment.runs.get("create") if segment else None
        minute = minute_of(sample.at, self.warmup)
        label = "start" if segment is None else "warm-up" if minute == 0 else minute
        cells = [
            f"{mib(sample.rss_kib[pid]) if pid in sample.rss_kib else '-':>13}"
            for pid in self.names
        ]
        rates = [segment.ok_per_second(k) if segment else 0.0 for k in KINDS]
        print(
            f"{label:>7}  {sample.at:>6.0f}  "
            + "  ".join(cells)
            + f"  {mib(sample.total_kib):>10}  {sample.completed:>9,}"
            f"  {sample.backlog:>7,}  {rates[0]:>9.1f}"
            f"  {in_ms(creates.p50 if creates else math.nan):>10}"
            f"  {in_ms(creates.p99 if creates else math.nan):>8}"
            f"  {rates[1]:>6.1f}  {rates[2]:>6.1f}"
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


def soak(
    server: Server, params: Params, load: Load
) -> tuple[list[RssSample], list[Segment]]:
    """The warm-up and the soak; a sample every `sample_every` s, a row a minute.

    At each end of a segment the samples read the server first, then collect the
    segment's wrk runs and launch the next ones (GETs on the newest ids then).
    """
    samples: list[RssSample] = []
    segments: list[Segment] = []
    table = Table(server.pid, params.warmup)
    ends = segment_ends(params.warmup, params.minutes)
    launched: Launched | None = None
    with httpx.Client(base_url=server.base_url, headers=HEADERS, timeout=60) as client:
        started = time.monotonic()
        try:
            for at, boundary in sample_times(params.sample_every, ends):
                time.sleep(max(0.0, started + at - time.monotonic()))
                rss, cpu = server_rss(server.pid), server.cpu_seconds()
                counts = job_counts(client)
                if boundary:
                    if launched is not None:
                        segments.append(launched.collect(timeout=SEGMENT + 120))
                        launched = None
                    following = [end for end in ends if end > at + 1e-6]
                    if following:
                        ids = newest_ids(client)
                        if not ids and load.rates["get"] > 0:
                            print(f"t={at:.0f} s: no job to GET yet, no GETs by id")
                        seconds = round(started + following[0] - time.monotonic())
                        launched = load.launch(at, following[0], max(1, seconds), ids)
                creates, failures, skipped = wrk_totals(segments)
                sample = RssSample(
                    at=at,  # as scheduled, so that minutes line up
                    rss_kib=rss,
                    completed=counts.by_status.get("completed", 0),
                    backlog=counts.unfinished,
                    creates=creates,
                    failures=failures,
                    skipped=skipped,
                    server_cpu=cpu,
                )
                samples.append(sample)
                if boundary:
                    table.row(sample, segments[-1] if at > 0 else None)
        finally:
            if launched is not None:
                launched.kill()
    return samples, segments


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


def sustained_rate(
    server: Server, params: Params, wrk_path: str, scratch: Path
) -> float:
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
    if backend.startswith("postgres"):
        with scratch_database() as url:
            yield url
    else:
        yield None


@contextlib.contextmanager
def broker(backend: str, scratch: Path) -> Iterator[str | None]:
    """A nats-server of the run's own for `postgres+nats`; its URL (else None)."""
    if backend != "postgres+nats":
        yield None
        return
    from nats_server import running_nats  # noqa: PLC0415 - this backend's only

    with running_nats(scratch) as nats:
        yield nats.url


def describe_load(params: Params, rates: Mapping[str, float], *, measured: bool) -> str:
    connections = ", ".join(
        f"{connections_for(rates[kind])} {kind}" for kind in KINDS if rates[kind] > 0
    )
    return (
        f"soak: {rates['create']:.1f} creates/s"
        + (" (half the sustained rate)" if measured else " (--rate)")
        + f" + {rates['get']:.1f} GETs by id/s + {rates['list']:.1f} list pages/s,"
        f" wrk paced by Lua (connections: {connections}; a wrk run a kind for the"
        f" warm-up and each minute); {params.warmup:.0f} s warm-up, then"
        f" {params.minutes:g} min; a sample every {params.sample_every:g} s"
    )


def run(params: Params, wrk_path: str) -> int:
    with tempfile.TemporaryDirectory(prefix=f"jobstream-soak-{params.backend}-") as tmp:
        scratch = Path(tmp)
        (scratch / "entry_points").mkdir()
        write_entry_point(scratch / "entry_points")
        log = scratch / "server.log"
        with (
            broker(params.backend, scratch) as nats_url,
            database(params.backend) as database_url,
        ):
            env = server_env(scratch, free_port(), database_url, params.workers)
            if nats_url is not None:
                env["JOBSTREAM_NATS_URL"] = nats_url
            create_user(env)
            try:
                with running_server(env, log) as server:
                    print(f"startup to /health 200: {server.startup:.1f} s")
                    rate = (
                        sustained_rate(server, params, wrk_path, scratch) / 2
                        if params.rate is None
                        else params.rate
                    )
                    rates = {
                        "create": rate,
                        "get": rate * params.gets_per_job,
                        "list": rate * params.lists_per_job,
                    }
                    print(describe_load(params, rates, measured=params.rate is None))
                    load = Load(wrk_path, server.base_url, rates, scratch / "soak")
                    wall, generator = time.perf_counter(), children_cpu_seconds()
                    samples, segments = soak(server, params, load)
                    wall = time.perf_counter() - wall
                    generator = children_cpu_seconds() - generator
                    for line in load_summary(segments, params.warmup):
                        print(f"after the warm-up, {line}")
                    print(
                        f"wrk CPU {generator:.1f} s over {wall:.0f} s"
                        f" ({generator / wall:.0%} of a core)"
                    )
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
        "--backend",
        choices=("embedded", "postgres", "postgres+nats"),
        default="embedded",
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
    unwind_on_sigterm()
    params = parse_args(argv)
    wrk_path = shutil.which("wrk")
    if wrk_path is None:
        raise SystemExit("no wrk on PATH: `sudo apt-get install wrk` (Debian/Ubuntu)")
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    print(
        f"machine: nproc={len(os.sched_getaffinity(0))} (load generator and server"
        f" share them), python {sys.version.split()[0]}, wrk"
        f" {wrk_version(wrk_path)}; load average {load_average()}"
    )
    print(
        f"soak: backend={params.backend} http-workers={params.workers}"
        f" batch type {BATCH_TYPE}; target: RSS growth <= {TARGET_GROWTH:.0%}"
    )
    return run(params, wrk_path)


if __name__ == "__main__":
    sys.exit(main())
