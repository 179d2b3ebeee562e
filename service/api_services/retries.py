"""What the retry endpoint uses: the retry command and the read-your-writes wait."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from domain.users import UserRole

if TYPE_CHECKING:
    from collections.abc import Callable

    from domain.batch_jobs import BatchJob
    from domain.users import User
    from service.application import Jobstream
    from service.strategies.registry import StrategyRegistry


class RetryService(ABC):  # an ABC: see BatchJobsService
    @abstractmethod
    def retry(self, job_id: str, caller: User) -> tuple[BatchJob, int]:
        """The new job that runs the failed job's work again, and the save's position.

        An admin may retry any user's job, others their own (Medusa's ownership
        rule); a type no strategy runs any more is refused as Medusa's create is.
        """

    @abstractmethod
    def settle(self, position: int) -> None:
        """After the write: wait until the caller's next read shows it."""


class Retries(RetryService):
    def __init__(
        self,
        app: Jobstream,
        registry: StrategyRegistry,
        settle: Callable[[int], None],
    ) -> None:
        self._app, self._registry, self._settle = app, registry, settle

    def retry(self, job_id: str, caller: User) -> tuple[BatchJob, int]:
        return self._app.retry_batch_job(
            job_id,
            caller.id,
            for_anyone=caller.role is UserRole.ADMIN,
            check_type=self._registry.get,
        )

    def settle(self, position: int) -> None:
        self._settle(position)
