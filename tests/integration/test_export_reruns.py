"""Export reruns on PostgreSQL: a completed job's file is always stored (issue 14).

Seen once under load in test_postgres_restart.py: a completed export whose file was
missing. An attempt whose save was cut by the outage retried its step after another
attempt (a JetStream redelivery, its lease lapsed meanwhile) had taken the job over
and completed it; the retry began by deleting "the earlier file", the one the job
named, before its first (fenced) write found it stale. Here the interleaving is
forced: two workers (an application each) on one PostgreSQL database, a fake clock
for their leases, and the save of the export's last write cut once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from eventsourcing.persistence import OperationalError

from domain.batch_jobs import BatchJob, BatchJobStatus
from service.application import Jobstream
from service.bootstrap.stores import build_app
from service.engine import steps
from service.engine.clock import FakeClock
from service.engine.steps import JobSteps
from service.files.local import LocalFileStorage
from service.files.owners import FileOwners
from service.retry import Backoff
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.product_export.strategy import ProductExportStrategy
from service.strategies.registry import StrategyRegistry
from tests.conftest import create_database, drop_database
from tests.integration.faults import check_files, check_history, create_exports
from tests.integration.faults import seed_catalog as seed
from tests.unit.engine.harness import new_clock

pytestmark = [
    pytest.mark.integration,
    pytest.mark.parametrize("settings", ["postgres"], indirect=True),
]
PRODUCTS = 12
LEASE = 30.0


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(steps, "JOB_BACKOFF", Backoff(first=0.05, most=0.05, budget=10))


@pytest.fixture
def database(settings: Settings) -> Iterator[Settings]:
    """A database of the test's own: the catalog's handles are unique per database."""
    name = f"jobstream_reruns_{uuid.uuid4().hex[:8]}"
    try:
        yield msgspec.structs.replace(settings, database_url=create_database(name))
    finally:
        drop_database(name)


@pytest.fixture
def keeper(database: Settings) -> Iterator[Runtime]:
    """The API side: the catalog's read model and the (local) file storage."""
    runtime = Runtime(database, process_jobs=False)
    runtime.start()
    try:
        seed(runtime, PRODUCTS)
        yield runtime
    finally:
        runtime.stop()


@pytest.fixture
def apps(database: Settings) -> Iterator[tuple[Jobstream, Jobstream]]:
    """Two workers' applications: each its own connections, as two processes."""
    first = build_app(database)
    try:
        second = build_app(database)
        try:
            yield first, second
        finally:
            second.close()
    finally:
        first.close()


@pytest.fixture
def clock() -> FakeClock:
    """The workers' clock: a lease lapses when the test says."""
    return new_clock()


def worker_steps(
    keeper: Runtime, app: Jobstream, actor: str, clock: FakeClock
) -> JobSteps:
    export = ProductExportStrategy(
        catalog=lambda: keeper.catalog_reads, files=keeper.files, owners=FileOwners(app)
    )
    return JobSteps(
        app=app,
        registry=StrategyRegistry([export]),
        clock=clock,
        lease_seconds=LEASE,
        actor=actor,
    )


def confirmed_export(keeper: Runtime, worker: JobSteps) -> str:
    """An export pre-processed by `worker` and confirmed: batch.confirmed's to run."""
    (job_id,) = create_exports(keeper, 1, page_size=4, dry_run=True)
    worker.pre_process(job_id)
    keeper.app.confirm_batch_job(job_id, "usr_1")
    assert keeper.app.get_batch_job(job_id).status is BatchJobStatus.CONFIRMED
    return job_id


def files_of(keeper: Runtime, job_id: str) -> list[str]:
    """Every file stored for the job: its own, and any an attempt left behind."""
    assert isinstance(keeper.files, LocalFileStorage)
    root = Path(keeper.files.root)
    return sorted(str(p.relative_to(root)) for p in root.rglob(f"*{job_id}*"))


def cut_once(
    app: Jobstream,
    monkeypatch: pytest.MonkeyPatch,
    hit: Callable[[Any], bool],
    *,
    stored: bool = False,
    meanwhile: Callable[[], None] = lambda: None,
) -> list[int]:
    """The first save of an event `hit` picks fails as a connection cut there does.

    `stored`: the save is committed, the caller told otherwise. `meanwhile` runs
    before the error reaches the caller (what another worker did during the cut).
    """
    save, cuts = app.save, list[int]()

    def cutting(*aggregates: Any) -> Any:
        if cuts or not any(hit(event) for event in aggregates):
            return save(*aggregates)
        cuts.append(1)
        if stored:
            save(*aggregates)
        meanwhile()
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(app, "save", cutting)
    return cuts


def last_write(event: Any) -> bool:
    """The export's write of its final figures (progress 1)."""
    return (
        isinstance(event, BatchJob.Updated)
        and (event.result or {}).get("progress") == 1
    )


def test_a_retry_after_another_attempt_completed_the_job_leaves_its_file(
    keeper: Runtime,
    apps: tuple[Jobstream, Jobstream],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a = worker_steps(keeper, apps[0], "worker:a:1", clock)
    b = worker_steps(keeper, apps[1], "worker:b:2", clock)
    job_id = confirmed_export(keeper, a)

    def b_takes_over_and_completes() -> None:
        clock.advance(LEASE + 1)  # A's lease lapsed during the cut
        b.process(job_id)
        assert keeper.app.get_batch_job(job_id).status is BatchJobStatus.COMPLETED

    cuts = cut_once(
        apps[0], monkeypatch, last_write, meanwhile=b_takes_over_and_completes
    )

    a.process(job_id)  # cut, retried once the "database" is back: now stale

    assert cuts == [1]
    job = keeper.app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.COMPLETED
    assert job.attempts["processing"] == 2
    check_history(keeper.app, job_id)
    check_files(keeper.app, keeper.files, [job_id], PRODUCTS)
    assert files_of(keeper, job_id) == [
        (job.result or {})["file_key"]
    ]  # none left behind


@pytest.mark.parametrize("stored", [False, True], ids=["lost", "stored-unseen"])
def test_a_cut_save_of_complete_completes_the_job_with_its_file(
    keeper: Runtime,
    apps: tuple[Jobstream, Jobstream],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    *,
    stored: bool,
) -> None:
    a = worker_steps(keeper, apps[0], "worker:a:1", clock)
    job_id = confirmed_export(keeper, a)
    cuts = cut_once(
        apps[0],
        monkeypatch,
        lambda event: isinstance(event, BatchJob.Completed),
        stored=stored,
    )

    a.process(job_id)

    assert cuts == [1]
    job = keeper.app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.COMPLETED
    assert "errors" not in (job.result or {})
    check_history(keeper.app, job_id)
    check_files(keeper.app, keeper.files, [job_id], PRODUCTS)
    assert files_of(keeper, job_id) == [(job.result or {})["file_key"]]  # written once


def test_a_cut_last_write_reruns_the_export_and_keeps_one_file(
    keeper: Runtime,
    apps: tuple[Jobstream, Jobstream],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The last write stored but unseen: the rerun's file replaces the first."""
    a = worker_steps(keeper, apps[0], "worker:a:1", clock)
    job_id = confirmed_export(keeper, a)
    cuts = cut_once(apps[0], monkeypatch, last_write, stored=True)

    a.process(job_id)

    assert cuts == [1]
    job = keeper.app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.COMPLETED
    check_history(keeper.app, job_id)
    check_files(keeper.app, keeper.files, [job_id], PRODUCTS)
    assert files_of(keeper, job_id) == [(job.result or {})["file_key"]]
