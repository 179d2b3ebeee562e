"""An export's rerun and the files of earlier attempts (issue 14).

A rerun (a retry after an outage, a takeover) writes a file of its own. It deletes the
earlier attempt's file only once its own is stored and the job names it; an attempt
fenced off by a takeover deletes and overwrites nothing of another attempt's; a file
no job will complete with is not left behind. The strategy runs on an in-memory
application, a fake catalog and a fake file storage that records what happens when.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError

from domain.batch_jobs import BatchJob, LeaseLostError
from domain.leases import LeaseStep
from projections.catalog.view import ProductPage
from service.application import Jobstream
from service.files.owners import FileOwners
from service.files.storage import FileReader, FileStorage, FileWriter, StoredFile
from service.strategies.product_export.strategy import ProductExportStrategy
from service.strategies.run import ApplicationJobRun

PRODUCTS = 5
LEASE = 30.0
FIRST, SECOND = "worker:a:1", "worker:b:2"
EARLIER = "exports/products/product-export-1-earlier.csv"


class FakeWriter(FileWriter):
    def __init__(self, key: str, files: FakeFiles) -> None:
        super().__init__(key)
        self._files, self._parts = files, bytearray()

    def _write_chunk(self, chunk: bytes) -> None:
        self._parts += chunk

    def _commit(self) -> None:
        self._files.committing(self.key)
        self._files.stored[self.key] = bytes(self._parts)
        self._files.log.append(("commit", self.key))

    def _abort(self) -> None:
        self._files.log.append(("abort", self.key))


class FakeFiles(FileStorage):
    """Files in a dict; `log` says in which order they were stored and deleted."""

    def __init__(self) -> None:
        self.stored: dict[str, bytes] = {}
        self.log: list[tuple[str, str]] = []
        self.on_commit: Callable[[str], None] = lambda _: None
        self.on_delete: Callable[[str], None] = lambda _: None

    def committing(self, key: str) -> None:
        self.on_commit(key)

    def open_writer(self, key: str) -> FileWriter:
        return FakeWriter(key, self)

    def open_reader(self, key: str) -> FileReader:
        return FileReader(iter([self.stored[key]]))

    def size(self, key: str) -> int:
        return len(self.stored[key])

    def exists(self, key: str) -> bool:
        return key in self.stored

    def delete(self, key: str) -> bool:
        self.on_delete(key)
        self.log.append(("delete", key))
        return self.stored.pop(key, None) is not None

    def list_files(self) -> Iterator[StoredFile]:
        now = datetime.now(UTC)
        return iter([StoredFile(k, len(v), now) for k, v in self.stored.items()])

    def close(self) -> None:
        pass


class FakeView:
    """The catalog view's keyset paging, over PRODUCTS documents."""

    documents = [
        json.dumps({"id": f"prod_{n}", "variants": [{"id": f"variant_{n}"}]})
        for n in range(PRODUCTS)
    ]

    def count_products(self, query: object) -> int:
        return len(self.documents)

    def page_products(
        self, query: object, *, after: str | None, limit: int, descending: bool
    ) -> ProductPage:
        start = 0 if after is None else int(after) + 1
        page = self.documents[start : start + limit]
        end = start + len(page) - 1
        return ProductPage(page, str(end) if end < len(self.documents) - 1 else None)

    def list_regions(self) -> list[object]:
        return []


class FakeCatalog:
    view = FakeView()

    def catch_up(self) -> None:
        pass


@pytest.fixture
def app() -> Jobstream:
    return Jobstream(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


@pytest.fixture
def files() -> FakeFiles:
    return FakeFiles()


def processing_job(app: Jobstream, result: dict[str, Any] | None = None) -> str:
    """A job processing under FIRST's lease (attempt 1), pages of 2 products."""
    job = BatchJob.create(
        batch_type="product-export",
        created_by="usr_1",
        context={"list_config": {"order": {"id": "ASC"}, "take": 2}},
        dry_run=False,
        actor="usr_1",
    )
    job.set_pre_processing_done("usr_1")
    job.claim(FIRST, datetime.now(UTC), LEASE)
    if result:
        job.update(FIRST, result=result)
    app.save(job)
    return job.id


def attempt_run(app: Jobstream, job_id: str, actor: str) -> ApplicationJobRun:
    """A run fenced by the job's processing attempt as it stands now."""
    attempt = app.get_batch_job(job_id).attempts_at(LeaseStep.PROCESSING)

    def fence(job: BatchJob) -> None:
        job.check_attempt(LeaseStep.PROCESSING, attempt)

    return ApplicationJobRun(app, job_id, actor, fence=fence)


def take_over(app: Jobstream, job_id: str) -> None:
    """SECOND takes the job over once FIRST's lease lapsed: attempt 2."""
    job = app.get_batch_job(job_id)
    later = datetime.now(UTC) + timedelta(seconds=LEASE + 1)
    job.take_lease(SECOND, LeaseStep.PROCESSING, later, LEASE)
    app.save(job)


def strategy(app: Jobstream, files: FakeFiles) -> ProductExportStrategy:
    return ProductExportStrategy(
        catalog=FakeCatalog,  # type: ignore[arg-type]
        files=files,
        owners=FileOwners(app),
    )


def file_key(app: Jobstream, job_id: str) -> str:
    key = (app.get_batch_job(job_id).result or {}).get("file_key")
    assert isinstance(key, str)
    return key


def lines_of(files: FakeFiles, key: str) -> list[str]:
    return [line for line in files.stored[key].decode().split("\r\n") if line]


def test_a_rerun_deletes_the_earlier_file_once_its_own_is_stored_and_named(
    app: Jobstream, files: FakeFiles
) -> None:
    files.stored[EARLIER] = b"an earlier attempt's whole file"
    job_id = processing_job(app, {"file_key": EARLIER, "file_size": 31})
    seen_at_delete: list[tuple[str, bool]] = []

    def deleting(key: str) -> None:
        named = file_key(app, job_id)
        seen_at_delete.append((named, named in files.stored))

    files.on_delete = deleting

    strategy(app, files).process_job(attempt_run(app, job_id, FIRST))

    new = file_key(app, job_id)
    assert new != EARLIER
    assert EARLIER not in files.stored
    # When the earlier file went, the job named the new one, and it was stored.
    assert seen_at_delete == [(new, True)]
    assert files.log[-2:] == [("commit", new), ("delete", EARLIER)]
    assert len(lines_of(files, new)) == 1 + PRODUCTS
    result = app.get_batch_job(job_id).result or {}
    assert result["file_size"] == len(files.stored[new])
    assert (result["count"], result["advancement_count"]) == (PRODUCTS, PRODUCTS)


def test_a_fenced_rerun_deletes_and_overwrites_nothing_of_the_attempt_that_won(
    app: Jobstream, files: FakeFiles
) -> None:
    job_id = processing_job(app)
    stale = attempt_run(app, job_id, FIRST)
    take_over(app, job_id)
    strategy(app, files).process_job(attempt_run(app, job_id, SECOND))
    winner = file_key(app, job_id)
    job = app.get_batch_job(job_id)
    job.complete(SECOND)
    app.save(job)
    completed = app.get_batch_job(job_id).version

    # FIRST comes back (its retry after an outage): the job names SECOND's file.
    with pytest.raises(LeaseLostError):
        strategy(app, files).process_job(stale)

    assert list(files.stored) == [winner]  # nothing of FIRST's is left either
    assert ("delete", winner) not in files.log
    assert len(lines_of(files, winner)) == 1 + PRODUCTS
    assert app.get_batch_job(job_id).version == completed


def test_a_takeover_during_the_commit_leaves_neither_file_of_the_stale_attempt(
    app: Jobstream, files: FakeFiles
) -> None:
    files.stored[EARLIER] = b"an earlier attempt's whole file"
    job_id = processing_job(app, {"file_key": EARLIER})
    files.on_commit = lambda _: take_over(app, job_id)

    with pytest.raises(LeaseLostError):
        strategy(app, files).process_job(attempt_run(app, job_id, FIRST))

    # Its own file went (nothing completes with it); the earlier one is not its
    # to delete any more: the attempt that took over decides on it.
    assert list(files.stored) == [EARLIER]
    assert ("delete", EARLIER) not in files.log


def test_a_file_whose_pointer_was_not_saved_is_removed_and_the_rerun_replaces_it(
    app: Jobstream, files: FakeFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    files.stored[EARLIER] = b"an earlier attempt's whole file"
    job_id = processing_job(app, {"file_key": EARLIER})
    run, export = attempt_run(app, job_id, FIRST), strategy(app, files)
    save = app.save

    def cut_after_the_commit(*aggregates: Any) -> Any:
        if any(kind == "commit" for kind, _ in files.log):
            raise OperationalError("connection lost")
        return save(*aggregates)

    monkeypatch.setattr(app, "save", cut_after_the_commit)
    with pytest.raises(OperationalError):
        export.process_job(run)
    (lost,) = [key for kind, key in files.log if kind == "commit"]
    assert list(files.stored) == [EARLIER]  # the unsaved one went, the earlier stays
    assert ("delete", lost) in files.log

    monkeypatch.setattr(app, "save", save)
    export.process_job(run)  # the step's retry, once the database is back

    new = file_key(app, job_id)
    assert new in files.stored
    assert lost not in files.stored
    assert len(lines_of(files, new)) == 1 + PRODUCTS


def test_a_failed_attempt_leaves_no_file_once_its_result_names_none(
    app: Jobstream, files: FakeFiles
) -> None:
    files.stored[EARLIER] = b"an earlier attempt's whole file"
    job_id = processing_job(app, {"file_key": EARLIER})

    strategy(app, files).handle_processing_error(
        attempt_run(app, job_id, FIRST), ValueError("bad data")
    )

    result = app.get_batch_job(job_id).result or {}
    assert "file_key" not in result
    assert result["errors"][-1]["message"] == "bad data"
    assert files.stored == {}


def test_a_fenced_attempt_failing_deletes_nothing(
    app: Jobstream, files: FakeFiles
) -> None:
    files.stored[EARLIER] = b"the later attempt's file"
    job_id = processing_job(app)
    stale = attempt_run(app, job_id, FIRST)
    take_over(app, job_id)
    job = app.get_batch_job(job_id)
    job.update(SECOND, result={"file_key": EARLIER})
    app.save(job)

    with pytest.raises(LeaseLostError):
        strategy(app, files).handle_processing_error(stale, ValueError("late"))

    assert list(files.stored) == [EARLIER]
    assert file_key(app, job_id) == EARLIER
