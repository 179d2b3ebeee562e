"""The read-model fold: events applied to rows, each event once."""

from __future__ import annotations

from typing import cast

from domain.batch_jobs import BatchJob
from projections.batch_jobs.row import BatchJobRow, fold


def history() -> tuple[BatchJob, list[BatchJob.Event]]:
    job = BatchJob.create(
        batch_type="t",
        created_by="usr_1",
        context={"a": 1},
        dry_run=False,
        actor="usr_1",
    )
    job.update("w", result={"count": 2})
    job.set_pre_processing_done("w")
    job.set_processing("w")
    job.set_failed("w", "boom")
    return job, cast("list[BatchJob.Event]", job.collect_events())


def test_folding_the_history_gives_the_aggregates_state() -> None:
    job, events = history()
    rows: dict[str, BatchJobRow] = {}

    changed = fold(rows, events)

    row = rows[job.id]
    assert changed == {job.id}
    for field in ("type", "created_by", "context", "result", "dry_run", "created_at",
                  "updated_at", "pre_processed_at", "confirmed_at", "processing_at",
                  "failed_at", "canceled_at", "completed_at", "status"):  # fmt: skip
        assert getattr(row, field) == getattr(job, field), field
    assert row.version == job.version == 6


def test_an_event_already_folded_is_skipped() -> None:
    job, events = history()
    rows: dict[str, BatchJobRow] = {}
    fold(rows, events)
    before = vars(rows[job.id]).copy()

    changed = fold(rows, events)

    assert changed == set()
    assert vars(rows[job.id]) == before


def test_events_of_several_jobs_fold_in_one_batch() -> None:
    first, first_events = history()
    second, second_events = history()
    rows: dict[str, BatchJobRow] = {}

    fold(rows, [*first_events, *second_events])

    assert set(rows) == {first.id, second.id}
    assert rows[second.id].result == {"count": 2, "errors": ["boom"]}
