"""service.protocol_checks: protocol members listed once per class, same answers."""

from __future__ import annotations

import sys
import typing
from typing import Any, Protocol, runtime_checkable

import pytest
from eventsourcing.domain import CanMutateProtocol, DomainEventProtocol

from domain.batch_jobs import BatchJob
from service import protocol_checks


@runtime_checkable
class Named(Protocol):
    name: str

    def greet(self) -> str: ...


class Person:
    def __init__(self) -> None:
        self.name = "Ada"

    def greet(self) -> str:
        return f"hello, {self.name}"


class Nameless:
    def greet(self) -> str:
        return "hello"


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12 caches it already")
def test_members_are_listed_once_per_protocol_and_answers_do_not_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[type[Any]] = []
    original = typing._get_protocol_attrs  # type: ignore[attr-defined]

    def counting(cls: type[Any]) -> set[str]:
        calls.append(cls)
        result: set[str] = original(cls)
        return result

    monkeypatch.setattr(typing, "_get_protocol_attrs", counting)
    protocol_checks.install()

    answers = [isinstance(obj, Named) for obj in (Person(), Nameless(), 3) * 50]

    assert answers == [True, False, False] * 50
    assert calls.count(Named) == 1
    protocol_checks.install()  # a second install keeps the same cache
    assert hasattr(typing._get_protocol_attrs, "cache_info")  # type: ignore[attr-defined]


def test_eventsourcing_checks_answer_as_before() -> None:
    protocol_checks.install()
    job = BatchJob.create(
        batch_type="product-export",
        created_by="usr_1",
        context={},
        dry_run=True,
        actor="usr_1",
    )
    (event,) = job.collect_events()
    assert isinstance(event, DomainEventProtocol)
    assert isinstance(event, CanMutateProtocol)
    assert not isinstance(job, DomainEventProtocol)
