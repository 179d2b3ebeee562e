"""Work JetStream lost is published again, and nothing else is."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest
from nats.js.errors import NotFoundError

from domain.batch_jobs import BatchJob
from domain.leases import LeaseStep
from domain.strategies import BatchJobDraft
from projections.batch_jobs.memory import InMemoryBatchJobsView
from projections.read_models.known import BATCH_JOBS
from service.application import Jobstream
from service.engine.clock import FakeClock
from service.messaging import envelope
from service.messaging.redrive import WorkRedrive, redriving

AFTER = 60.0
CREATED, CONFIRMED = "jobs-batch-created", "jobs-batch-confirmed"


class FakeJetStream:
    """The two calls the redrive makes: each work consumer's state, and a publish."""

    def __init__(self) -> None:
        # Consumer name -> (undelivered, delivered but unacknowledged).
        self.consumers: dict[str, tuple[int, int]] = {
            CREATED: (0, 0),
            CONFIRMED: (0, 0),
        }
        self.published: list[tuple[str, bytes, dict[str, str]]] = []

    async def consumer_info(self, stream: str, name: str) -> Any:
        assert stream == "JOBS"
        if name not in self.consumers:
            raise NotFoundError
        pending, ack_pending = self.consumers[name]
        return SimpleNamespace(num_pending=pending, num_ack_pending=ack_pending)

    async def publish(
        self, subject: str, data: bytes, headers: dict[str, str] | None = None
    ) -> None:
        self.published.append((subject, data, dict(headers or {})))


class Setup:
    def __init__(self) -> None:
        self.app = Jobstream(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.view = InMemoryBatchJobsView()
        self.js = FakeJetStream()
        self.clock = FakeClock(datetime.now(UTC))
        self.redrive = WorkRedrive(
            app=self.app,
            view=self.view,
            js=cast("Any", self.js),
            stream="JOBS",
            subject_prefix="jobs",
            durable="jobs",
            after=AFTER,
            clock=self.clock,
        )

    def create(self) -> str:
        draft = BatchJobDraft(type="product-export", context={}, dry_run=True)
        return self.app.create_batch_job(draft, "usr_1")[0].id

    def change(self, job_id: str, change: Any) -> None:
        job = self.app.get_batch_job(job_id)
        change(job)
        self.app.save(job)

    def project(self) -> None:
        project = BATCH_JOBS.projection(self.view, self.app.name)
        start = self.view.max_tracking_id(self.app.name) or 0
        page = self.app.recorder.select_notifications(
            start, limit=1000, inclusive_of_start=False
        )
        project([(n.id, self.app.mapper.to_domain_event(n)) for n in page])

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def sweep(self, published: int | None = None) -> list[str]:
        self.project()
        self.clock.advance(AFTER + 1)
        position = self.head() if published is None else published
        return asyncio.run(self.redrive.sweep(position))


@pytest.fixture
def setup() -> Setup:
    return Setup()


def position_of(app: Jobstream, job_id: str, version: int) -> int:
    for notification in app.recorder.select_notifications(0, limit=1000):
        if (notification.originator_id, notification.originator_version) == (
            job_id,
            version,
        ):
            return notification.id
    raise AssertionError(f"{job_id} v{version} not stored")


def test_a_new_job_past_the_bound_with_nothing_queued_has_its_created_sent_again(
    setup: Setup,
) -> None:
    other = setup.create()
    job_id = setup.create()

    assert sorted(setup.sweep()) == sorted([other, job_id])

    subjects = [subject for subject, _, _ in setup.js.published]
    assert subjects == ["jobs.batch.created", "jobs.batch.created"]
    sent = {
        envelope.decode(data).job_id: (envelope.decode(data), headers)
        for _, data, headers in setup.js.published
    }
    message, headers = sent[job_id]
    assert message.event == "batch.created"
    assert message.job_version == 1
    assert message.position == position_of(setup.app, job_id, 1)
    # A message id of its own, naming the event it copies: the stream keeps it.
    assert headers["Nats-Msg-Id"] != message.event_id
    assert headers["Nats-Msg-Id"].startswith(f"{message.event_id}:redrive:")
    assert setup.redrive.redriven == 2


def test_a_confirmed_job_has_its_confirmed_sent_again(setup: Setup) -> None:
    job_id = setup.create()
    setup.change(job_id, lambda job: job.set_pre_processing_done("usr_1"))
    setup.change(job_id, lambda job: job.confirm("usr_1"))

    assert setup.sweep() == [job_id]

    [(subject, data, _)] = setup.js.published
    message = envelope.decode(data)
    assert subject == "jobs.batch.confirmed"
    assert (message.event, message.job_version) == ("batch.confirmed", 3)
    assert message.position == position_of(setup.app, job_id, 3)


def test_jobs_within_the_bound_are_left_alone(setup: Setup) -> None:
    setup.create()
    setup.project()
    setup.clock.advance(AFTER - 1)

    assert asyncio.run(setup.redrive.sweep(setup.head())) == []
    assert setup.js.published == []


@pytest.mark.parametrize("held", [(1, 0), (0, 1)], ids=["undelivered", "in flight"])
def test_nothing_is_sent_while_the_consumer_holds_messages(
    setup: Setup, held: tuple[int, int]
) -> None:
    setup.create()
    setup.js.consumers[CREATED] = held  # a backlog: the job is queued, not lost

    assert setup.sweep() == []
    assert setup.js.published == []


def test_only_the_idle_consumers_jobs_are_sent(setup: Setup) -> None:
    waiting_new = setup.create()
    confirmed = setup.create()
    setup.change(confirmed, lambda job: job.set_pre_processing_done("usr_1"))
    setup.change(confirmed, lambda job: job.confirm("usr_1"))
    setup.js.consumers[CONFIRMED] = (3, 0)

    assert setup.sweep() == [waiting_new]


def test_nothing_is_sent_before_any_worker_made_its_consumer(setup: Setup) -> None:
    setup.create()
    setup.js.consumers.clear()

    assert setup.sweep() == []


def test_an_event_the_relay_has_not_published_yet_is_not_lost(setup: Setup) -> None:
    job_id = setup.create()

    assert setup.sweep(published=position_of(setup.app, job_id, 1) - 1) == []
    assert setup.js.published == []


def test_jobs_a_worker_holds_or_that_moved_on_are_left_alone(setup: Setup) -> None:
    leased = setup.create()
    setup.change(
        leased,
        lambda job: job.take_lease(
            "worker:h:1", LeaseStep.PRE_PROCESSING, datetime.now(UTC), 30
        ),
    )
    pre_processed = setup.create()
    setup.change(pre_processed, lambda job: job.set_pre_processing_done("usr_1"))
    canceled = setup.create()
    setup.change(canceled, lambda job: job.cancel("usr_1"))

    assert setup.sweep() == []


def test_a_job_that_moved_on_after_the_read_model_saw_it_is_left_alone(
    setup: Setup,
) -> None:
    job_id = setup.create()
    setup.project()
    setup.change(job_id, lambda job: job.set_pre_processing_done("usr_1"))
    setup.clock.advance(AFTER + 1)

    assert asyncio.run(setup.redrive.sweep(setup.head())) == []  # the store decides


async def test_the_loop_sweeps_only_while_the_relay_leads_and_ends_on_stop(
    setup: Setup,
) -> None:
    job_id = setup.create()
    setup.project()
    setup.clock.advance(AFTER + 1)
    leading: list[int | None] = [None]
    stop = asyncio.Event()
    loop = asyncio.create_task(
        redriving(setup.redrive, lambda: leading[0], stop, interval=0.01)
    )
    await asyncio.sleep(0.1)
    assert setup.js.published == []  # not leading

    leading[0] = setup.head()
    for _ in range(200):
        if setup.js.published:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(loop, 1)

    assert {envelope.decode(data).job_id for _, data, _ in setup.js.published} == {
        job_id
    }


def test_the_work_events_are_the_ones_workers_take_up() -> None:
    from service.engine.jetstream import STEPS  # noqa: PLC0415 - the workers' table
    from service.messaging.redrive import WORK_EVENTS  # noqa: PLC0415

    assert {cls.NAME for cls in WORK_EVENTS.values()} == set(STEPS)
    assert set(WORK_EVENTS.values()) == {BatchJob.Created, BatchJob.Confirmed}
