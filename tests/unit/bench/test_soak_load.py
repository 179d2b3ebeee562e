"""bench/soak.py's wrk load: pacing arithmetic, the Lua scripts, wrk's report, plan."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pytest


def soak_line(**fields: Any) -> str:
    values = {
        "duration_us": 60_050_000,
        "sent": 21_010,
        "answered": 21_000,
        "ok": 20_997,
        "max_lag_s": 0.0125,
        "p50_us": 4_200,
        "p99_us": 38_000,
        "statuses": '{"500":2,"503":1}',
        "socket": '{"connect":0,"read":0,"write":0,"timeout":3}',
    } | fields
    inner = ",".join(f'"{k}":{v}' for k, v in values.items())
    return f"SOAK {{{inner}}}\n"


WRK_REPORT = """Running 1m test @ http://127.0.0.1:8000/admin/batch-jobs
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.01ms    9.80ms 210.00ms   95.00%
  21000 requests in 1.00m, 20.00MB read
Requests/sec:    349.71
Transfer/sec:    341.00KB
"""


def test_connections_cap_the_requests_in_flight_at_a_fifth_of_a_second(
    soak: Any,
) -> None:
    # 0.2 s of the kind's rate each, at least one, at most 64.
    assert [soak.connections_for(rate) for rate in (350, 175, 35, 2.5, 0.1)] == [
        64, 35, 7, 1, 1,
    ]  # fmt: skip


def test_a_thread_s_slots_are_its_share_of_the_rate(soak: Any) -> None:
    assert soak.slot_interval(350) == pytest.approx(1 / 350)
    assert soak.slot_interval(350, threads=2) == pytest.approx(2 / 350)
    assert soak.slot_interval(50) == pytest.approx(0.02)


def test_the_create_script_posts_no_op_jobs_on_a_schedule(soak: Any) -> None:
    script = soak.wrk_script("create", 350)
    assert f"local interval = {1 / 350!r}\n" in script
    assert "local expected = 201\n" in script
    assert 'wrk.method = "POST"' in script
    assert r'wrk.body = "{\"type\":\"bench-noop\",' in script  # a Lua string
    assert r"\"dry_run\":false" in script
    assert 'wrk.headers["x-medusa-access-token"] = "bench-token"' in script
    for hook in ("delay", "request", "response", "setup", "done"):
        assert f"function {hook}(" in script
    assert "$" not in script  # every placeholder substituted


def test_gets_draw_from_the_ids_and_lists_page_through_them(soak: Any) -> None:
    ids = [f"batch_{i:04d}" for i in range(25)]
    gets = soak.wrk_script("get", 175, ids)
    assert "local expected = 200\n" in gets
    assert '  "batch_0000",\n' in gets
    assert '  "batch_0024"\n}' in gets
    assert '"/admin/batch-jobs/" .. ids[math.random(#ids)]' in gets
    pages = soak.wrk_script("list", 35, ids)
    assert "local max_offset = 15\n" in pages  # the last full page of 10
    assert "/admin/batch-jobs?limit=10&offset=" in pages
    assert "local max_offset = 0\n" in soak.wrk_script("list", 35, [])
    with pytest.raises(ValueError, match="need ids"):
        soak.wrk_script("get", 175, [])


def test_the_done_line_is_read_from_wrk_s_output(soak: Any) -> None:
    run = soak.parse_run("create", 350.0, WRK_REPORT + soak_line())
    assert (run.kind, run.rate, run.duration) == ("create", 350.0, 60.05)
    assert (run.sent, run.answered, run.ok) == (21_010, 21_000, 20_997)
    assert (run.p50, run.p99, run.max_lag) == (0.0042, 0.038, 0.0125)
    assert run.failures == Counter({"HTTP 500": 2, "HTTP 503": 1, "socket timeout": 3})
    # 350/s over 60.05 s is 21,017 slots, one of slack: 21,016 due, 21,010 sent.
    assert run.skipped == 6


def test_a_run_that_kept_its_schedule_skipped_nothing(soak: Any) -> None:
    run = soak.parse_run("get", 175.0, soak_line(duration_us=60_000_000, sent=10_501))
    assert run.skipped == 0


def test_no_answer_gives_no_latency(soak: Any) -> None:
    line = soak_line(answered=0, ok=0, p50_us=0, p99_us=0, statuses="{}")
    run = soak.parse_run("list", 35.0, line)
    assert math.isnan(run.p50)
    assert math.isnan(run.p99)
    assert run.failures == Counter({"socket timeout": 3})


def test_a_missing_done_line_is_an_error(soak: Any) -> None:
    with pytest.raises(RuntimeError, match="no SOAK line"):
        soak.parse_run("create", 350.0, WRK_REPORT)


def test_wrk_runs_for_the_warm_up_then_each_minute(soak: Any) -> None:
    assert soak.segment_ends(30, 10) == [30, *range(90, 631, 60)]
    assert soak.segment_ends(0, 1) == [60]
    assert soak.segment_ends(30, 1.5) == [30, 90, 120]
    # A last piece under a second joins the minute before it.
    assert soak.segment_ends(10, 2.01) == [10, 70, pytest.approx(130.6)]


def test_samples_fall_every_period_and_on_each_run_s_end(soak: Any) -> None:
    times = soak.sample_times(25, [30, 90])
    assert times == [
        (0, True), (25, False), (30, True), (50, False), (75, False), (90, True),
    ]  # fmt: skip
    assert [at for at, _ in soak.sample_times(10, [10, 70])] == list(range(0, 71, 10))


def test_totals_add_every_kind_s_runs(soak: Any) -> None:
    creates = soak.parse_run("create", 350.0, soak_line())
    gets = soak.parse_run("get", 175.0, soak_line(sent=10_000, ok=9_999))
    segment = soak.Segment(30, 90, {"create": creates, "get": gets})
    assert segment.ok_per_second("create") == pytest.approx(20_997 / 60.05)
    assert segment.ok_per_second("list") == 0.0
    assert soak.wrk_totals([segment, segment]) == (
        2 * 20_997,
        4 * 6,  # every run's failures
        2 * (6 + math.floor(175 * 60.05) - 1 - 10_000),
    )
    line = soak.load_summary([segment], warmup=30)[0]
    assert line.startswith("create: asked 350.0/s, sent 349.9/s, answered 201 349.7/s")
    assert "; p50 4.2ms, p99 38.0ms by run;" in line
    assert soak.load_summary([segment], warmup=60) == []  # only the warm-up ran


def test_latency_spread_over_runs_ignores_runs_without_answers(soak: Any) -> None:
    assert soak.spread([0.0042, math.nan, 0.0125]) == "4.2-12.5ms"
    assert soak.spread([0.038]) == "38.0ms"
    assert soak.spread([math.nan]) == "-"
