"""batch.created's delivery carries the job as the event made it: a copy, maybe stale.

Where the strategy does no pre-processing, the copy spares the step its read of the
job; if the job moved on since (a replay, a cancel, a worker that died holding it),
the copy's save conflicts and the step is decided on the job as stored.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.popo import POPOTrackingRecorder

from domain.batch_jobs import BatchJob, BatchJobStatus
from service.application import Jobstream
from service.engine.event_store import EventStoreWorkSource
from service.engine.work import Step
from tests.support import named
from tests.unit.engine.harness import (
    LEASE,
    Relay,
    Script,
    create,
    event_names,
    new_app,
    new_clock,
    run_until_idle,
    worker,
)
from tests.unit.engine.test_lifecycle import PLAIN_JOB_EVENTS


def counting_reads(app: Jobstream) -> list[str]:
    """Each read of a job through the application, by id."""
    reads: list[str] = []
    read = app.get_batch_job

    def counted(job_id: str, *args: Any, **kwargs: Any) -> BatchJob:
        reads.append(job_id)
        return read(job_id, *args, **kwargs)

    app.get_batch_job = counted  # type: ignore[method-assign]
    return reads


def test_the_event_stores_source_gives_batch_created_s_job() -> None:
    app, clock = new_app(), new_clock()
    job_id = create(app, batch_type="plain")
    source = EventStoreWorkSource(app, POPOTrackingRecorder(), clock, lambda _: None)

    (work,) = source.fetch(10, 0.0)

    assert (work.step, work.job_id) == (Step.PRE_PROCESS, job_id)
    assert isinstance(work.created, BatchJob)
    assert (work.created.id, work.created.version) == (job_id, 1)
    assert work.created.status is BatchJobStatus.CREATED


def test_the_copy_spares_pre_processing_its_read_and_changes_nothing_else() -> None:
    outcomes = []
    for copies in (False, True):
        app, clock = new_app(), new_clock()
        a = worker(app, clock, Script())
        job_id = create(app, batch_type="plain")
        reads = counting_reads(app)

        run_until_idle(Relay(app, a, copies=copies), a)

        job = app.get_batch_job(job_id)
        outcomes.append((job.status, event_names(app, job_id), len(reads) - 1))

    (status, events, reads_without), (status_with, events_with, reads_with) = outcomes
    assert status is status_with is BatchJobStatus.COMPLETED
    assert events == events_with == PLAIN_JOB_EVENTS
    assert reads_with == reads_without - 1


def test_a_stale_copy_of_a_job_whose_worker_died_leads_to_its_takeover() -> None:
    app, clock = new_app(), new_clock()
    b = worker(app, clock, Script(), name="worker:b:2")
    job_id = create(app, batch_type="plain")
    copy = app.get_batch_job(job_id)  # as batch.created made it
    # Worker A pre-processed and claimed it, then died mid-processing.
    app.change_batch_job(
        job_id,
        lambda job: job.set_pre_processing_done_and_claim(
            "worker:a:1", clock.now(), LEASE
        ),
    )

    b.source.put(job_id, Step.PRE_PROCESS, copy)  # A's lease is still live
    b.engine.run_pending()
    while_live = b.source.settled[-1].settled
    clock.advance(LEASE + 1)  # now it lapsed
    b.engine.run_pending()  # the delivery given back comes again

    job = app.get_batch_job(job_id)
    assert while_live is not None
    assert while_live.startswith("nak:")  # given back until A's lease would lapse
    assert float(while_live.removeprefix("nak:")) >= LEASE
    assert job.status is BatchJobStatus.COMPLETED
    assert job.attempts == {"processing": 2}
    events = named(app.repository.event_store.get(job_id))
    assert [name for name, actor in events if actor == "worker:b:2"] == [
        "batch.lease_taken",
        "batch.updated",
        "batch.completed",
    ]


def test_a_stale_copy_of_a_job_already_run_is_a_no_op() -> None:
    app, clock = new_app(), new_clock()
    a = worker(app, clock, Script())
    relay = Relay(app, a)
    job_id = create(app, batch_type="plain")
    copy = app.get_batch_job(job_id)
    run_until_idle(relay, a)
    version = app.get_batch_job(job_id).version

    a.source.put(job_id, Step.PRE_PROCESS, copy)  # a replay after a restart
    a.engine.run_pending()

    assert app.get_batch_job(job_id).version == version
    assert a.source.settled[-1].settled == "ack"
