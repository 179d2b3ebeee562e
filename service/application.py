"""The event-sourced application: batch-job and user commands over one event store."""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import Environment, EnvType

from domain.batch_jobs import BatchJob
from domain.errors import BatchJobNotFoundError, DomainError, DuplicateError
from domain.users import User, UserIndex
from projections.store_internals import SaveHookApplication
from service import protocol_checks, tracing
from service.group_commit import GroupCommit

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

    from eventsourcing.persistence import Recording

    from domain.strategies import BatchJobDraft

# eventsourcing checks every event saved and replayed against its Protocols.
protocol_checks.install()

USER_CACHE_SECONDS = 30.0
USER_CACHE_SIZE = 10_000
# A write that loses an optimistic-concurrency race is re-read and re-decided this
# many times before the conflict reaches the caller (HTTP 409). A busy job (a worker
# writing progress every few milliseconds) may take several tries to cancel.
CONFLICT_RETRIES = 30


class Jobstream(SaveHookApplication):
    # Pinned: the name picks the PostgreSQL table (jobstream_events).
    name = "Jobstream"

    def __init__(self, env: EnvType | None = None) -> None:
        super().__init__(env=env)
        # Called after every save with the topics it stored, so the runners in this
        # process that follow one of them wake at once (and the others sleep on).
        self.save_listeners: list[Callable[[Collection[str]], None]] = []
        # Called after every save with its last position (None: not known), so the
        # read models know the log's head without asking (service.read_models.head).
        self.head_listeners: list[Callable[[int | None], None]] = []
        # Every request authenticates; the lookups are cached. Index aggregates never
        # change, so their targets are kept; users are re-read after USER_CACHE_SECONDS.
        self._user_ids_by_key: dict[str, str] = {}
        self._users: dict[str, tuple[float, User]] = {}
        # Late-bound, so whatever `save` is at call time (tests replace it) is used.
        self._group_commit = GroupCommit(
            lambda *aggregates, **kwargs: self.save(*aggregates, **kwargs),  # noqa: PLW0108
            callers=getattr(self.recorder, "records_callers", False),
        )

    def close(self) -> None:
        self._group_commit.close()  # what coroutines submitted is written first
        super().close()

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        # Settings are read once by service.settings; never from os.environ here.
        return Environment(name, dict(env or {}))

    def saved(self, recordings: Sequence[Recording[str]]) -> None:
        self.notify_saved(
            {r.notification.topic for r in recordings},
            max((r.notification.id for r in recordings), default=None),
        )

    def notify_saved(
        self, topics: Collection[str], position: int | None = None
    ) -> None:
        """Tell this process's listeners that events of these topics were stored.

        `position`: the save's last notification id (None: not known).
        """
        for head_listener in self.head_listeners:
            head_listener(position)
        for listener in self.save_listeners:
            listener(topics)

    # -- batch jobs ------------------------------------------------------------

    def create_batch_job(
        self, draft: BatchJobDraft, created_by: str, job_id: str | None = None
    ) -> tuple[BatchJob, int]:
        """Save a new job; return it and its event's notification position."""
        if tracing.enabled:
            from service.tracing import spans  # noqa: PLC0415 - only when tracing

            with spans.saving_new_job(draft.type) as span:
                # The job records this span's context: its later spans join the trace.
                job, position = self._create_batch_job(
                    draft, created_by, job_id, spans.trace_parent_of(span)
                )
                spans.describe_job(span, job.id, job.type)
                return job, position
        return self._create_batch_job(draft, created_by, job_id, None)

    async def create_batch_job_async(
        self, draft: BatchJobDraft, created_by: str
    ) -> tuple[BatchJob, int]:
        """`create_batch_job` on an event loop, which runs on while the save is written.

        Untraced only: a traced create saves in its span, on a thread.
        """
        job = _new_job(draft, created_by, None, None)
        return job, await self._group_commit.save_async(job, caller=created_by)

    def _create_batch_job(
        self,
        draft: BatchJobDraft,
        created_by: str,
        job_id: str | None,
        trace_parent: str | None,
    ) -> tuple[BatchJob, int]:
        job = _new_job(draft, created_by, job_id, trace_parent)
        return job, self._save(job, caller=created_by)

    def get_batch_job(self, job_id: str) -> BatchJob:
        try:
            job: object = self.repository.get(job_id)
        except AggregateNotFoundError:
            raise BatchJobNotFoundError(job_id) from None
        if not isinstance(job, BatchJob):
            raise BatchJobNotFoundError(job_id)
        return job

    def confirm_batch_job(self, job_id: str, user_id: str) -> tuple[BatchJob, int]:
        def confirm(job: BatchJob) -> None:
            job.ensure_accessible_by(user_id)
            job.confirm(user_id)

        return self.change_batch_job(job_id, confirm, caller=user_id)

    def cancel_batch_job(self, job_id: str, user_id: str) -> tuple[BatchJob, int]:
        def cancel(job: BatchJob) -> None:
            job.ensure_accessible_by(user_id)
            job.cancel(user_id)

        return self.change_batch_job(job_id, cancel, caller=user_id)

    def update_batch_job(  # noqa: PLR0913 - the patches are optional and named
        self,
        job_id: str,
        actor: str,
        *,
        result: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        unset_result: Iterable[str] = (),
        unset_context: Iterable[str] = (),
        current: BatchJob | None = None,
        guard: Callable[[BatchJob], None] | None = None,
    ) -> BatchJob:
        """A strategy's write: shallow merge; returns the job as saved.

        `guard` may refuse the write on the job as it stands (each try, after a lost
        race too): the fence of the attempt that writes.
        """

        def update(job: BatchJob) -> None:
            if guard is not None:
                guard(job)
            job.update(
                actor,
                result=result,
                context=context,
                unset_result=unset_result,
                unset_context=unset_context,
            )

        job, _ = self.change_batch_job(job_id, update, current)
        return job

    def retry_batch_job(
        self,
        job_id: str,
        actor: str,
        *,
        for_anyone: bool,
        check_type: Callable[[str], object] = lambda _: None,
    ) -> tuple[BatchJob, int]:
        """Run a failed job's work again as a new job (`BatchJob.retry`).

        The failed job's `batch.retried` and the new job's `batch.created` are saved
        in one transaction. `for_anyone`: the actor may retry any user's job (an
        admin); else only their own. `check_type` may refuse the job's type (no
        strategy runs it). Returns the new job and the save's position.
        """
        retried: list[BatchJob] = []

        def retry(job: BatchJob) -> list[BatchJob]:
            if not for_anyone:
                job.ensure_accessible_by(actor)
            retried[:] = [job.retry(actor)]
            check_type(job.type)
            return retried

        _, position = self.change_batch_job(job_id, retry)
        return retried[0], position

    def change_batch_job(
        self,
        job_id: str,
        command: Callable[[BatchJob], Iterable[BatchJob] | None],
        current: BatchJob | None = None,
        *,
        caller: str | None = None,
    ) -> tuple[BatchJob, int]:
        """Get, decide, save; on a lost race, decide again on the fresh state.

        `current`, a copy the caller already holds, spares the first read; if it is
        stale, the save conflicts and the retry reads afresh. The command may return
        new jobs to save in the same transaction. Returns the job as saved and the
        position of the save's last event. `caller`: the user whose write it is.
        """
        if current is not None:
            try:
                created = command(current) or ()
                return current, self._save(current, *created, caller=caller)
            except (IntegrityError, DomainError):
                pass  # stale: decide again on what the store holds
        for attempt in range(CONFLICT_RETRIES):
            job = self.get_batch_job(job_id)
            created = command(job) or ()
            try:
                return job, self._save(job, *created, caller=caller)
            except IntegrityError:
                if attempt == CONFLICT_RETRIES - 1:
                    raise
                # Jitter, so two writers that keep colliding fall out of step.
                time.sleep(random.uniform(0, min(0.05, 0.001 * 2**attempt)))  # noqa: S311
        raise AssertionError("unreachable")  # pragma: no cover

    # -- users -----------------------------------------------------------------

    def register_user(self, user: User) -> User:
        """Save a new user with its email (and token) index, or refuse a duplicate."""
        actor = user.created_actor
        indexes = [UserIndex.pointing(UserIndex.email_key(user.email), user.id, actor)]
        if user.api_token:
            token_key = UserIndex.token_key(user.api_token)
            indexes.append(UserIndex.pointing(token_key, user.id, actor))
        try:
            self.save(user, *indexes)
        except IntegrityError:
            raise DuplicateError(
                "A user with the same email, id or api token already exists."
            ) from None
        return user

    def get_user(self, user_id: str) -> User | None:
        cached = self.cached_user(user_id)
        if cached is not None:
            return cached
        try:
            user: object = self.repository.get(user_id)
        except AggregateNotFoundError:
            return None
        if not isinstance(user, User):
            return None
        if len(self._users) >= USER_CACHE_SIZE:
            self._users.clear()
        self._users[user_id] = (time.monotonic() + USER_CACHE_SECONDS, user)
        return user

    def cached_user(self, user_id: str) -> User | None:
        """The user if a recent read is in memory; never touches the store."""
        entry = self._users.get(user_id)
        return entry[1] if entry is not None and entry[0] > time.monotonic() else None

    def cached_user_by_api_token(self, api_token: str) -> User | None:
        user_id = self._user_ids_by_key.get(UserIndex.token_key(api_token))
        return None if user_id is None else self.cached_user(user_id)

    def find_user_by_email(self, email: str) -> User | None:
        return self._follow_index(UserIndex.email_key(email))

    def find_user_by_api_token(self, api_token: str) -> User | None:
        return self._follow_index(UserIndex.token_key(api_token))

    def _follow_index(self, key: str) -> User | None:
        user_id = self._user_ids_by_key.get(key)
        if user_id is None:
            try:
                index: object = self.repository.get(key)
            except AggregateNotFoundError:
                return None  # not cached: a user created later is found at once
            if not isinstance(index, UserIndex):
                return None
            user_id = self._user_ids_by_key[key] = index.user_id
        return self.get_user(user_id)

    # -- plumbing --------------------------------------------------------------

    def _save(self, *aggregates: BatchJob, caller: str | None = None) -> int:
        """Save (with concurrent saves, in one transaction); the last event's position."""
        return self._group_commit.save(*aggregates, caller=caller)


def _new_job(
    draft: BatchJobDraft,
    created_by: str,
    job_id: str | None,
    trace_parent: str | None,
) -> BatchJob:
    return BatchJob.create(
        batch_type=draft.type,
        created_by=created_by,
        context=draft.context,
        dry_run=draft.dry_run,
        actor=created_by,
        job_id=job_id,
        trace_parent=trace_parent,
    )
