"""A job's way through the engine: created -> pre_processed -> confirmed -> completed."""

from __future__ import annotations

from domain.batch_jobs import BatchJob, BatchJobStatus
from domain.leases import LeaseStep
from service.application import Jobstream
from service.engine.work import Step
from tests.unit.engine.harness import (
    Relay,
    Script,
    create,
    event_names,
    new_app,
    new_clock,
    raises,
    run_until_idle,
    worker,
)


def test_a_dry_run_job_waits_at_pre_processed_then_completes_once_confirmed() -> None:
    app, clock, script = new_app(), new_clock(), Script()
    a = worker(app, clock, script)
    relay = Relay(app, a)
    job_id = create(app, dry_run=True)

    run_until_idle(relay, a)
    assert app.get_batch_job(job_id).status is BatchJobStatus.PRE_PROCESSED

    app.confirm_batch_job(job_id, "usr_1")
    run_until_idle(relay, a)

    job = app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.COMPLETED
    assert job.result == {"done": True}
    assert job.attempts == {"pre_processing": 1, "processing": 1}
    assert job.lease_holder is None
    assert script.runs == ["pre_process", "process"]
    assert [(w.step, w.settled) for w in a.source.settled] == [
        (Step.PRE_PROCESS, "ack"),
        (Step.PROCESS, "ack"),
    ]


def test_a_job_not_a_dry_run_runs_through_with_one_event_per_change() -> None:
    app, clock = new_app(), new_clock()
    a = worker(app, clock, Script())
    relay = Relay(app, a)
    job_id = create(app)

    run_until_idle(relay, a)

    assert app.get_batch_job(job_id).status is BatchJobStatus.COMPLETED
    # The claim takes the processing lease in batch.processing itself.
    assert event_names(app, job_id) == [
        "batch.created",
        "batch.lease_taken",
        "batch.pre_processed",
        "batch.confirmed",
        "batch.processing",
        "batch.updated",
        "batch.completed",
    ]


# A job of a strategy with no pre-processing, from create to completed: no lease
# event for a pre-processing it does not do.
PLAIN_JOB_EVENTS = [
    "batch.created",
    "batch.pre_processed",
    "batch.confirmed",
    "batch.processing",
    "batch.updated",
    "batch.completed",
]


def count_reads(app: Jobstream) -> list[str]:
    """The ids of the jobs read from the application from now on."""
    reads: list[str] = []
    get = app.get_batch_job

    def counted(job_id: str) -> BatchJob:
        reads.append(job_id)
        return get(job_id)

    app.get_batch_job = counted  # type: ignore[method-assign]
    return reads


def test_a_job_runs_on_in_the_delivery_that_pre_processed_it() -> None:
    app, clock, script = new_app(), new_clock(), Script()
    a = worker(app, clock, script)
    relay = Relay(app, a)
    job_id = create(app)

    relay(a)
    created = a.source.fetch(1, 0)[0]
    a.engine.handle(created)

    # One delivery, three writes: the lease, pre-processed with the claim, the end.
    assert app.get_batch_job(job_id).status is BatchJobStatus.COMPLETED
    assert script.runs == ["pre_process", "process"]
    assert created.settled == "ack"
    assert app.get_batch_job(job_id).runs_on_from_pre_processing
    # batch.confirmed's delivery is acked and changes nothing, here without a read.
    version = app.get_batch_job(job_id).version
    relay(a)
    reads = count_reads(app)
    assert a.engine.run_pending() == 1
    assert reads == []
    assert a.source.settled[-1].step is Step.PROCESS
    assert a.source.settled[-1].settled == "ack"
    assert app.get_batch_job(job_id).version == version
    assert script.runs == ["pre_process", "process"]


def test_a_strategy_without_pre_processing_takes_no_lease_for_it() -> None:
    app, clock = new_app(), new_clock()
    a = worker(app, clock, Script())
    relay = Relay(app, a)
    job_id = create(app, batch_type="plain")

    run_until_idle(relay, a)

    job = app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.COMPLETED
    assert job.result == {"done": True}
    assert job.attempts == {"processing": 1}
    assert event_names(app, job_id) == PLAIN_JOB_EVENTS


def test_a_plain_dry_run_stops_at_pre_processed_and_runs_once_confirmed() -> None:
    app, clock = new_app(), new_clock()
    a = worker(app, clock, Script())
    relay = Relay(app, a)
    job_id = create(app, batch_type="plain", dry_run=True)

    run_until_idle(relay, a)
    assert app.get_batch_job(job_id).status is BatchJobStatus.PRE_PROCESSED
    assert app.get_batch_job(job_id).attempts == {}

    app.confirm_batch_job(job_id, "usr_1")
    run_until_idle(relay, a)

    job = app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.COMPLETED
    assert not job.runs_on_from_pre_processing  # claimed by batch.confirmed's delivery


def test_a_plain_job_canceled_before_pre_processing_is_left_alone() -> None:
    app, clock = new_app(), new_clock()
    a = worker(app, clock, Script())
    relay = Relay(app, a)
    job_id = create(app, batch_type="plain")
    app.cancel_batch_job(job_id, "usr_1")

    run_until_idle(relay, a)

    job = app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.CANCELED
    assert event_names(app, job_id) == ["batch.created", "batch.canceled"]


def test_without_run_on_batch_confirmed_claims_and_runs_the_job() -> None:
    app, clock, script = new_app(), new_clock(), Script()
    a = worker(app, clock, script, run_on=False)
    relay = Relay(app, a)
    job_id = create(app, batch_type="plain")

    run_until_idle(relay, a)

    job = app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.COMPLETED
    assert not job.runs_on_from_pre_processing
    assert event_names(app, job_id) == PLAIN_JOB_EVENTS
    assert [(w.step, w.settled) for w in a.source.settled] == [
        (Step.PRE_PROCESS, "ack"),
        (Step.PROCESS, "ack"),
    ]


def test_a_redelivered_step_is_a_no_op() -> None:
    app, clock, script = new_app(), new_clock(), Script()
    a = worker(app, clock, script)
    relay = Relay(app, a)
    job_id = create(app)
    run_until_idle(relay, a)
    version = app.get_batch_job(job_id).version

    a.source.put(job_id, Step.PRE_PROCESS)
    a.source.put(job_id, Step.PROCESS)
    a.engine.run_pending()

    assert app.get_batch_job(job_id).version == version
    assert script.runs == ["pre_process", "process"]
    assert [w.settled for w in a.source.settled[-2:]] == ["ack", "ack"]


def test_a_failing_pre_process_fails_the_job_with_its_message() -> None:
    app, clock = new_app(), new_clock()
    a = worker(app, clock, Script(pre_process=[raises("Bad context")]))
    relay = Relay(app, a)
    job_id = create(app)

    run_until_idle(relay, a)

    job = app.get_batch_job(job_id)
    assert job.status is BatchJobStatus.FAILED
    assert job.result == {"errors": ["Bad context"]}
    assert job.attempts_at(LeaseStep.PRE_PROCESSING) == 1


def test_a_job_of_an_unknown_id_is_acked_and_forgotten() -> None:
    app, clock = new_app(), new_clock()
    a = worker(app, clock, Script(), limits={"scripted": 1})

    work = a.source.put("batch_unknown", Step.PROCESS)
    a.engine.run_pending()

    assert work.settled == "ack"
