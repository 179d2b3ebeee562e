"""Bulk cancel's loop over a fake operator service: per-id outcomes, one settle."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import IntegrityError

from domain.batch_jobs import BatchJob
from domain.errors import BatchJobNotFoundError
from domain.users import User, UserRole
from service.api_services.operator import OperatorService
from service.http.errors import CONFLICT_MESSAGE
from service.http.operator.cancel import cancel_each


@dataclass
class FakeOperator(OperatorService):
    """Cancels by a script of outcomes per id; records every settle."""

    outcomes: dict[str, int | Exception]
    settled: list[int] = field(default_factory=list)

    def cancel(self, job_id: str, caller: User) -> int:
        outcome = self.outcomes[job_id]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def settle(self, position: int) -> None:
        self.settled.append(position)

    def list_jobs(self, query: Any, caller_id: str) -> Any:
        raise AssertionError("not used")

    def job(self, job_id: str, caller: User) -> BatchJob:
        raise AssertionError("not used")

    def details(self, job_id: str, caller: User) -> Any:
        raise AssertionError("not used")

    def events_of(self, job_id: str, caller: User) -> Any:
        raise AssertionError("not used")

    def state_at(self, job_id: str, version: int, caller: User) -> Any:
        raise AssertionError("not used")

    def open_file(self, key: str) -> Any:
        raise AssertionError("not used")


def admin() -> User:
    return User.register(
        email="a@example.com", password_hash="x", actor="test", role=UserRole.ADMIN
    )


def test_a_lost_race_is_that_job_s_conflict_and_the_rest_are_canceled() -> None:
    operator = FakeOperator(
        {
            "batch_1": 7,
            "batch_2": IntegrityError("lost the race"),
            "batch_3": BatchJobNotFoundError("batch_3"),
            "batch_4": 5,
        }
    )

    answer = cancel_each(
        operator, ["batch_1", "batch_2", "batch_3", "batch_4"], admin()
    )

    assert answer.canceled == ["batch_1", "batch_4"]
    assert [(e.id, e.type, e.message) for e in answer.errors] == [
        ("batch_2", "conflict", CONFLICT_MESSAGE),
        ("batch_3", "not_found", "Batch job with id batch_3 was not found"),
    ]
    assert operator.settled == [7]  # once, for the latest write


def test_nothing_canceled_waits_for_nothing() -> None:
    operator = FakeOperator({"batch_1": BatchJobNotFoundError("batch_1")})

    answer = cancel_each(operator, ["batch_1"], admin())

    assert answer.canceled == []
    assert operator.settled == []
