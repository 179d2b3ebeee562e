"""The batch-jobs projection over the in-memory view: documents, tracking, once only."""

from __future__ import annotations

import dataclasses
import json
from typing import cast

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from domain.batch_jobs import BatchJob, BatchJobStatus
from projections.batch_jobs.memory import InMemoryBatchJobsView
from projections.batch_jobs.query import BatchJobQuery, TimeFilter
from projections.parking import ParkedEvent
from projections.read_models.known import BATCH_JOBS

UPSTREAM = "Jobstream"


def new_job(
    created_by: str = "usr_1", batch_type: str = "product-export"
) -> tuple[BatchJob, list[BatchJob.Event]]:
    job = BatchJob.create(
        batch_type=batch_type, created_by=created_by, context={"a": 1},
        dry_run=True, actor=created_by,
    )  # fmt: skip
    return job, cast("list[BatchJob.Event]", job.collect_events())


def positioned(events: list[BatchJob.Event], first: int) -> list[tuple[int, object]]:
    return [(first + i, event) for i, event in enumerate(events)]


@pytest.fixture
def view() -> InMemoryBatchJobsView:
    return InMemoryBatchJobsView()


def test_the_projection_folds_events_into_documents_and_records_the_position(
    view: InMemoryBatchJobsView,
) -> None:
    project = BATCH_JOBS.projection(view, UPSTREAM)
    job, created = new_job()
    job.update("usr_1", result={"count": 3})
    job.set_pre_processing_done("usr_1")
    later = cast("list[BatchJob.Event]", job.collect_events())

    project(positioned(created, 1))
    project(positioned(later, 2))

    found = view.get_document(job.id)
    assert found is not None
    created_by, text = found
    document = json.loads(text)
    assert created_by == "usr_1"
    assert document["id"] == job.id
    assert document["status"] == "pre_processed"
    assert document["result"] == {"count": 3}
    assert view.max_tracking_id(UPSTREAM) == 3
    row = view.get_batch_job(job.id)
    assert row is not None
    assert row.version == job.version


def test_a_position_applied_twice_is_refused_and_changes_nothing(
    view: InMemoryBatchJobsView,
) -> None:
    project = BATCH_JOBS.projection(view, UPSTREAM)
    job, created = new_job()
    project(positioned(created, 5))
    job.update("usr_1", result={"count": 1})
    update = cast("list[BatchJob.Event]", job.collect_events())
    before = view.get_document(job.id)

    with pytest.raises(IntegrityError):
        project(positioned(update, 5))  # the same position again
    with pytest.raises(IntegrityError):
        project(positioned(update, 4))  # one before it

    assert view.get_document(job.id) == before
    assert view.max_tracking_id(UPSTREAM) == 5


def test_a_batch_that_fails_leaves_rows_and_position_as_they_were(
    view: InMemoryBatchJobsView,
) -> None:
    job, created = new_job()
    view.apply_events(created, Tracking(UPSTREAM, 1))
    before = view.get_batch_job(job.id)

    class Broken(BatchJob.Updated):
        def apply(self, aggregate: object) -> None:
            raise RuntimeError("poison")

    job.update("usr_1", result={"count": 1})
    job.update("usr_1", result={"count": 2})
    good, second = cast("list[BatchJob.Updated]", job.collect_events())
    bad = Broken(
        **{f.name: getattr(second, f.name) for f in dataclasses.fields(second)}
    )
    with pytest.raises(RuntimeError):
        view.apply_events([good, bad], Tracking(UPSTREAM, 3))  # the good one too

    assert view.get_batch_job(job.id) == before
    assert view.max_tracking_id(UPSTREAM) == 1


def test_lists_filter_order_and_page_as_the_sql_views_do(
    view: InMemoryBatchJobsView,
) -> None:
    jobs = []
    for position, (owner, batch_type) in enumerate(
        [("usr_1", "a"), ("usr_1", "b"), ("usr_2", "a"), ("usr_1", "a")], start=1
    ):
        job, events = new_job(owner, batch_type)
        view.apply_events(events, Tracking(UPSTREAM, position))
        jobs.append(job)
    mine = [j for j in jobs if j.created_by == "usr_1"]

    newest_first, count = view.list_batch_jobs(BatchJobQuery(created_by="usr_1"))
    of_type_a, count_a = view.list_batch_jobs(
        BatchJobQuery(created_by="usr_1", types=("a",), descending=False)
    )
    second_page, _ = view.list_documents(
        BatchJobQuery(created_by="usr_1", limit=1, offset=1)
    )
    none_confirmed, _ = view.list_batch_jobs(
        BatchJobQuery(
            created_by="usr_1",
            time_filters=(TimeFilter("confirmed_at", "is_null"),),
        )
    )

    expected = sorted(mine, key=lambda j: (j.created_at, j.id), reverse=True)
    assert [r.id for r in newest_first] == [j.id for j in expected]
    assert count == 3
    assert [r.id for r in of_type_a] == [j.id for j in mine if j.type == "a"]
    assert count_a == 2
    assert [json.loads(d)["id"] for d in second_page] == [expected[1].id]
    assert len(none_confirmed) == 3


def test_a_parked_event_moves_the_position_once(view: InMemoryBatchJobsView) -> None:
    parked = ParkedEvent(
        read_model="batchjobs", position=7, originator_id="batch_1",
        originator_version=2, topic="t", error="RuntimeError: x", attempts=3,
        parked_at="2026-12-02T00:00:00.000+00:00",
    )  # fmt: skip

    view.park(parked, Tracking(UPSTREAM, 7))
    with pytest.raises(IntegrityError):
        view.park(parked, Tracking(UPSTREAM, 7))

    assert view.parked_events() == [parked]
    assert view.max_tracking_id(UPSTREAM) == 7
    view.clear_parked(7)
    assert view.parked_events() == []


def test_every_creator_s_jobs_filter_by_status_and_prefix_with_counts(
    view: InMemoryBatchJobsView,
) -> None:
    done, done_events = new_job("usr_1")
    done.set_pre_processing_done("usr_1")
    done.confirm("usr_1")
    done.set_processing("usr_1")
    done.complete("usr_1")
    done_events += cast("list[BatchJob.Event]", done.collect_events())
    waiting, waiting_events = new_job("usr_2")
    canceled, canceled_events = new_job("usr_2")
    canceled.cancel("usr_2")
    canceled_events += cast("list[BatchJob.Event]", canceled.collect_events())
    for position, events in enumerate(
        [done_events, waiting_events, canceled_events], start=1
    ):
        view.apply_events(events, Tracking(UPSTREAM, position))

    everyone = view.list_documents_by_status(BatchJobQuery(created_by=None))
    finished = view.list_documents_by_status(
        BatchJobQuery(
            created_by=None,
            statuses=(BatchJobStatus.COMPLETED, BatchJobStatus.CANCELED),
            limit=1,
        )
    )
    by_prefix = view.list_documents_by_status(
        BatchJobQuery(created_by="usr_2", id_prefix=waiting.id[:-2])
    )

    assert len(everyone.documents) == 3
    assert everyone.count(None) == 3
    assert everyone.status_counts == {
        **dict.fromkeys(BatchJobStatus, 0),
        BatchJobStatus.CREATED: 1,
        BatchJobStatus.COMPLETED: 1,
        BatchJobStatus.CANCELED: 1,
    }
    newest = max([done, canceled], key=lambda j: (j.created_at, j.id))
    assert [json.loads(d)["id"] for d in finished.documents] == [newest.id]
    assert finished.count((BatchJobStatus.COMPLETED, BatchJobStatus.CANCELED)) == 2
    assert finished.status_counts == everyone.status_counts  # status aside
    assert [json.loads(d)["id"] for d in by_prefix.documents] == [waiting.id]


def test_unfinished_contexts_leave_out_final_jobs(view: InMemoryBatchJobsView) -> None:
    running = BatchJob.create(
        batch_type="t", created_by="usr_1", context={"fileKey": "protected/a.csv"},
        dry_run=True, actor="usr_1",
    )  # fmt: skip
    done = BatchJob.create(
        batch_type="t", created_by="usr_1", context={"fileKey": "protected/b.csv"},
        dry_run=False, actor="usr_1",
    )  # fmt: skip
    done.set_pre_processing_done("w")
    done.set_processing("w")
    done.complete("w")
    events = [*running.collect_events(), *done.collect_events()]
    view.apply_events(cast("list[BatchJob.Event]", events), Tracking(UPSTREAM, 1))

    assert view.unfinished_contexts() == {running.id: {"fileKey": "protected/a.csv"}}
