"""Test helpers: a scripted strategy, API clients per user, polling."""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from litestar.testing import TestClient

from domain import aggregates
from domain.batch_jobs import BatchJob
from domain.strategies import (
    AbstractBatchJobStrategy,
    BatchJobDraft,
    BatchJobSnapshot,
    JobRun,
)
from domain.users import User, UserRole
from projections.read_models.known import BATCH_JOBS
from service.auth.passwords import hash_password
from service.runtime import Runtime

FINAL = {"completed", "failed", "canceled"}


class ScriptedError(Exception):
    pass


class ScriptedStrategy(AbstractBatchJobStrategy):
    """Registered by the tests under a batch type; the job's context says what to do.

    context keys: `fail_pre` (message), `fail` (message), `fail_times` (fail this
    many attempts, then succeed), `retry` (ask for retries), `pages` (progress steps),
    `sleep` (seconds per page, checking for cancel in between), `stream_cancel_only`
    (stop only on a cancel signalled from the event stream, never by reading the job).
    """

    batch_type: ClassVar[str] = "product-export"
    identifier: ClassVar[str] = "scripted-strategy"

    def __init__(self, batch_type: str = "product-export") -> None:
        self.batch_type = batch_type  # type: ignore[misc]
        self.cleanups: list[str] = []

    def prepare_batch_job_for_processing(
        self, draft: BatchJobDraft, user_id: str
    ) -> BatchJobDraft:
        context = {**draft.context, "prepared": True}
        return BatchJobDraft(type=draft.type, context=context, dry_run=draft.dry_run)

    def pre_process_batch_job(self, run: JobRun) -> None:
        job = run.job()
        if "fail_pre" in job.context:
            raise ScriptedError(job.context["fail_pre"])
        pages = int(job.context.get("pages", 1))
        run.update(
            result={
                "advancement_count": 0,
                "count": pages,
                "stat_descriptors": [
                    {
                        "key": "scripted-count",
                        "name": "Pages to process",
                        "message": f"There will be {pages} pages processed",
                    }
                ],
            }
        )

    def process_job(self, run: JobRun) -> None:
        job = run.job()
        failures_left = int(job.context.get("fail_times", 0)) - int(
            job.context.get("retry_count", 0)
        )
        if "fail" in job.context and failures_left > 0:
            raise ScriptedError(job.context["fail"])
        pages = int(job.context.get("pages", 1))
        stream_only = bool(job.context.get("stream_cancel_only"))
        for page in range(1, pages + 1):
            time.sleep(float(job.context.get("sleep", 0)))
            if stream_only and run.is_canceled():
                return
            after = run.update(
                result={"advancement_count": page, "progress": page / pages}
            )
            if not stream_only and after.status == "canceled":
                return

    def should_retry_on_processing_error(
        self, job: BatchJobSnapshot, error: Exception
    ) -> bool:
        return bool(job.context.get("retry"))

    def handle_processing_error(self, run: JobRun, error: Exception) -> None:
        self.cleanups.append(run.job_id)


@dataclass
class Caller:
    user: User
    token: str
    email: str
    password: str

    @property
    def headers(self) -> dict[str, str]:
        return {"x-medusa-access-token": self.token}


def named(events: Iterable[object]) -> list[tuple[str, str]]:
    """(event name, actor) of each event, for assertions on histories."""
    typed = [cast("aggregates.Event", event) for event in events]
    return [(event.NAME, event.actor) for event in typed]


@functools.cache
def password_hash(password: str) -> str:
    return hash_password(password)  # scrypt is slow on purpose: hash once per run


def new_user(
    runtime: Runtime, prefix: str = "admin_user", role: UserRole = UserRole.ADMIN
) -> Caller:
    suffix = uuid.uuid4().hex[:8]
    email, password, token = (
        f"{prefix}_{suffix}@medusa.js",
        "secret_password",
        f"tok_{suffix}",
    )
    user = runtime.app.register_user(
        User.register(
            email=email,
            password_hash=password_hash(password),
            actor="test",
            api_token=token,
            role=role,
            user_id=f"{prefix}_{suffix}",
        )
    )
    return Caller(user=user, token=token, email=email, password=password)


def wait_for_status(
    client: TestClient[Any],
    caller: Caller,
    job_id: str,
    statuses: Iterable[str] = FINAL,
    timeout: float = 15.0,
) -> dict[str, Any]:
    wanted = set(statuses)
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/admin/batch-jobs/{job_id}", headers=caller.headers)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()["batch_job"]
        if job["status"] in wanted:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} stuck in {job['status']}: {job}")
        time.sleep(0.02)


def logged_in(client: TestClient[Any], caller: Caller) -> tuple[str, str]:
    """A bearer token and a session id of `caller`'s; the client keeps no cookie."""
    credentials = {"email": caller.email, "password": caller.password}
    token = client.post("/admin/auth/token", json=credentials).json()["access_token"]
    session = client.post("/admin/auth", json=credentials).cookies["connect.sid"]
    client.cookies.clear()
    return str(token), str(session)


def lane_ready(runtime: Runtime, caller: Caller) -> None:
    """Until the read model is current for `caller` as known from memory alone.

    On PostgreSQL that is once the view's position known in memory covers the
    caller's record (read from the database, as the lane reads it).
    """
    model = runtime.read_models[BATCH_JOBS.name]
    callers = runtime.read_models.callers

    def current() -> bool:
        if model.is_current(caller.user.id):
            return True
        last_write = callers.last_write(caller.user.id)
        if not callers.shared or last_write is None:
            return False
        return model.covers(model.known_position(), last_write)

    deadline = time.monotonic() + 10
    while not current():
        assert time.monotonic() < deadline, "the read model is never current"
        model.catch_up()
        time.sleep(0.01)


def seed_job(
    runtime: Runtime,
    created_by: str,
    job_id: str | None = None,
    *,
    completed: bool = False,
    batch_type: str = "product-export",
    settle: bool = True,
) -> str:
    """Medusa's simpleBatchJobFactory: a row, not work. Dry-run, so it waits."""
    job = BatchJob.create(
        batch_type=batch_type,
        created_by=created_by,
        context={},
        dry_run=True,
        actor=created_by,
        job_id=job_id,
    )
    if completed:
        job.set_pre_processing_done("seed")
        job.confirm("seed")
        job.set_processing("seed")
        job.complete("seed")
    position = runtime.app.save(job)[-1].notification.id
    if settle:
        runtime.settle(position)
    return job.id


def scripted_strategy(services: object) -> ScriptedStrategy:
    """A `jobstream.strategies` entry point, for workers started as processes."""
    return ScriptedStrategy()
