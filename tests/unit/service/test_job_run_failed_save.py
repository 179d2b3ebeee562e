"""A strategy's write whose save fails (the database cut) leaves no stale copy behind.

The run keeps the job as it last saved it, to spare a read per write. A save that
fails on the way has already applied its event to that copy; deciding the next write
on it stored a version past the store's, with the failed write's state in it.
"""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.persistence import OperationalError

from domain.batch_jobs import BatchJob
from service.application import Jobstream
from service.strategies.run import ApplicationJobRun


def test_the_write_after_a_failed_save_is_decided_on_the_stored_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = Jobstream(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    job = BatchJob.create(
        batch_type="product-export", created_by="usr_1", context={},
        dry_run=False, actor="usr_1",
    )  # fmt: skip
    app.save(job)
    run = ApplicationJobRun(app, job.id, "worker:test")
    run.update(result={"file_key": "a.csv"})

    save = app.save

    def cut(*aggregates: Any) -> Any:
        raise OperationalError("connection lost")

    monkeypatch.setattr(app, "save", cut)
    with pytest.raises(OperationalError):
        run.update(result={"file_key": "lost.csv"})
    monkeypatch.setattr(app, "save", save)
    run.update(result={"count": 3})

    stored = app.get_batch_job(job.id)  # replays: versions are contiguous
    assert stored.result == {"file_key": "a.csv", "count": 3}
    assert stored.version == 3  # created, and the two writes that were stored
