"""On PostgreSQL the lane awaits the view's async reads, and steps aside when it must.

It answers only when the view's position, known from memory before the read, covers
the caller's last write as recorded in the database (read with the document); else
the handler's thread path waits for it. A read that fails or is cut off has sent
nothing: Litestar's path answers it, behind the database-cut guard.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from litestar.testing import TestClient

from projections.batch_jobs.postgres_async import APPLICATION_NAME
from projections.postgres_async_reads import AsyncReads
from projections.read_models.known import BATCH_JOBS
from service import db_gate
from service.http.database_cut import MESSAGE
from service.runtime import Runtime
from service.settings import Settings
from tests.support import Caller, lane_ready, seed_job, wait_for_status

pytestmark = [
    pytest.mark.integration,
    pytest.mark.parametrize("settings", ["postgres"], indirect=True),
]
UNAVAILABLE = {"type": "unexpected_state", "message": MESSAGE}


@pytest.fixture
def own(runtime: Runtime, client: TestClient[Any], admin: Caller) -> str:
    """A job of the admin's that nothing writes to any more, and the lane ready."""
    job_id = seed_job(runtime, admin.user.id)
    wait_for_status(client, admin, job_id, {"pre_processed"})
    lane_ready(runtime, admin)
    return job_id


def cut_hot_read_connections(settings: Settings) -> int:
    """Terminate the lane's connections, as a database restart would."""
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        return len(
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = %s",
                [APPLICATION_NAME],
            ).fetchall()
        )


@pytest.fixture
def table_locked(settings: Settings, runtime: Runtime) -> Iterator[threading.Event]:
    """The view's table locked by another session until the event is set."""
    assert settings.database_url is not None
    release, locked = threading.Event(), threading.Event()

    def hold() -> None:
        with psycopg.connect(settings.database_url or "") as conn:
            conn.execute(f"LOCK TABLE {runtime.view.table} IN ACCESS EXCLUSIVE MODE")  # type: ignore[attr-defined]
            locked.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    try:
        yield release
    finally:
        release.set()
        holder.join(30)


def test_the_lane_declines_while_the_view_is_not_known_to_cover_the_callers_writes(
    client: TestClient[Any], runtime: Runtime, admin: Caller, own: str,
    handler_reads: list[str], *, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    path = f"/admin/batch-jobs/{own}"
    model = runtime.read_models[BATCH_JOBS.name]
    known = model.known_position()
    assert known  # the view has the job
    # The caller's write, recorded (seed_job saves without one), is in the view.
    runtime.read_models.callers.record(admin.user.id, known)
    answered = client.get(path, headers=admin.headers)
    by_lane = len(handler_reads)
    # As if this process had not heard of the view's last rounds yet.
    monkeypatch.setattr(model, "known_position", lambda: 0)
    behind = client.get(path, headers=admin.headers)
    after_behind = len(handler_reads)
    monkeypatch.undo()
    known_again = client.get(path, headers=admin.headers)

    assert answered.status_code == behind.status_code == known_again.status_code
    assert answered.content == behind.content == known_again.content
    assert (by_lane, after_behind, len(handler_reads)) == (0, 1, 1)


def test_the_lane_needs_no_listener_where_its_process_keeps_the_view(
    client: TestClient[Any], runtime: Runtime, admin: Caller, own: str,
    handler_reads: list[str],
) -> None:  # fmt: skip
    """The log's head no longer matters: the caller's record and the view decide."""
    path = f"/admin/batch-jobs/{own}"
    before = client.get(path, headers=admin.headers)
    runtime.read_models._listener.stop()  # type: ignore[union-attr]
    listed = client.get("/admin/batch-jobs", headers=admin.headers)
    got = client.get(path, headers=admin.headers)

    assert (before.status_code, got.status_code, listed.status_code) == (200,) * 3
    assert got.content == before.content
    assert own in {job["id"] for job in listed.json()["batch_jobs"]}
    assert handler_reads == []  # all three answered by the lane


def test_a_failed_awaited_read_is_answered_by_the_handler_as_before(
    client: TestClient[Any], settings: Settings, admin: Caller, own: str,
    handler_reads: list[str],
) -> None:  # fmt: skip
    path = f"/admin/batch-jobs/{own}"
    before = client.get(path, headers=admin.headers)  # opens the lane's pool
    assert cut_hot_read_connections(settings) >= 1

    after_cut = client.get(path, headers=admin.headers)  # its connection is gone
    handler_after_cut = len(handler_reads)
    healed = client.get(path, headers=admin.headers)

    assert (before.status_code, after_cut.status_code) == (200, 200)
    assert after_cut.content == before.content == healed.content
    assert handler_after_cut == 1  # the handler read it on its own pool
    assert len(handler_reads) <= 2  # the pool replaces what was cut


def test_a_read_failing_as_the_database_goes_down_gets_the_guards_503(
    client: TestClient[Any], settings: Settings, admin: Caller, own: str,
    gate_says: Callable[[Callable[[], str | None]], None],
    *, handler_reads: list[str],
) -> None:  # fmt: skip
    path = f"/admin/batch-jobs/{own}"
    client.get(path, headers=admin.headers)  # opens the lane's pool
    cut_hot_read_connections(settings)
    looks = iter([None])  # up when the lane looks, down once its read failed
    gate_says(lambda: next(looks, "down: test"))

    answer = client.get(path, headers=admin.headers)

    assert answer.status_code == 503
    assert answer.json() == UNAVAILABLE
    assert answer.headers["retry-after"] == "1"
    assert handler_reads == []  # the guard answered: no handler ran


def test_a_read_in_flight_when_the_database_is_cut_is_given_up_for_the_guards_503(
    client: TestClient[Any], admin: Caller, own: str,
    gate_says: Callable[[Callable[[], str | None]], None],
    *, table_locked: threading.Event, handler_reads: list[str],
) -> None:  # fmt: skip
    path = f"/admin/batch-jobs/{own}"
    cut = threading.Event()
    gate_says(lambda: "down: test" if cut.is_set() else None)
    threading.Timer(0.3, cut.set).start()  # the lane's read waits on the lock

    started = time.monotonic()
    answer = client.get(path, headers=admin.headers)
    elapsed = time.monotonic() - started
    handlers_run = len(handler_reads)
    table_locked.set()
    gate_says(lambda: None)
    again = client.get(path, headers=admin.headers)

    assert answer.status_code == 503
    assert answer.json() == UNAVAILABLE
    assert elapsed < 0.3 + 2 * db_gate.RECHECK_SECONDS + 1.0  # slack: a busy machine
    # The lane had the read in flight, gave it up, and the guard answered at once:
    # no handler ran (one would have waited on the lock too).
    assert handlers_run == 0
    assert again.status_code == 200
    assert again.json()["batch_job"]["id"] == own


def test_a_lists_count_is_asked_again_only_once_the_view_moved(
    client: TestClient[Any], runtime: Runtime, admin: Caller, own: str,
    *, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    sent: list[str] = []  # the lane's statements: none if the handler answered
    each = AsyncReads.each

    async def recorded(self: AsyncReads, *statements: Any) -> list[list[Any]]:
        sent.extend(sql for sql, _ in statements)
        return await each(self, *statements)

    monkeypatch.setattr(AsyncReads, "each", recorded)

    counts_table = getattr(runtime.view, "counts_table")  # noqa: B009 - a SQL view's

    def counts() -> int:
        # A Medusa list's count sums the counts table (projections.batch_jobs.counts).
        return sum(f"FROM {counts_table}" in sql for sql in sent)

    first = client.get("/admin/batch-jobs?limit=1", headers=admin.headers)
    again = client.get("/admin/batch-jobs?limit=1", headers=admin.headers)
    asked_twice = counts()
    other = seed_job(runtime, admin.user.id)
    wait_for_status(client, admin, other, {"pre_processed"})
    lane_ready(runtime, admin)
    after_a_write = client.get("/admin/batch-jobs?limit=1", headers=admin.headers)

    assert (first.json()["count"], again.json()["count"]) == (1, 1)
    assert asked_twice == 1  # the second list took its count from memory
    assert after_a_write.json()["count"] == 2
    assert counts() >= 2  # asked again once the view had folded the new job
