"""The runner's poison handling and the NUL rule, without a database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pytest
from eventsourcing.persistence import Notification, OperationalError

from projections import runner as runner_module
from projections.nul import scrub, without_nul
from projections.parking import MAX_ERROR_CHARS, error_text
from projections.runner import CatchUpRunner


class Log:
    """A notification log in memory: what the runner reads of a recorder."""

    def __init__(self, count: int) -> None:
        self.notifications = [
            Notification(id=i, originator_id=f"id_{i}", originator_version=1,
                         topic="t:Event", state=b"{}")
            for i in range(1, count + 1)
        ]  # fmt: skip

    def select_notifications(self, *, start: int, limit: int, **_: Any) -> list[Any]:
        return [n for n in self.notifications if n.id > start][:limit]

    def max_notification_id(self) -> int:
        return len(self.notifications)


class Mapper:
    def to_domain_event(self, notification: Notification) -> Notification:
        return notification


@dataclass
class Projection:
    """Fails on `poison` with `error`; records what it applied and what it parked."""

    poison: int
    error: Exception
    applied: list[int]
    parked: list[tuple[int, str, int]]

    def __call__(self, batch: Any) -> None:
        if any(position == self.poison for position, _ in batch):
            raise self.error
        self.applied.extend(position for position, _ in batch)

    def park(
        self, notification: Notification, error: BaseException, tries: int
    ) -> None:
        self.parked.append((notification.id, repr(error), tries))


def run(projection: Projection, count: int, steps: int) -> CatchUpRunner:
    runner = CatchUpRunner(
        name="test",
        recorder=cast("Any", Log(count)),
        mapper=cast("Any", Mapper()),
        topics=(),
        start_position=lambda: 0,
        handler=projection,
        on_poison=projection.park,
    )
    for _ in range(steps):
        try:
            runner.run_once()
        except Exception:  # noqa: BLE001, S112 - the loop's own retry, by hand
            continue
    return runner


def test_a_poison_event_is_retried_then_parked_and_the_others_applied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runner_module, "POISON_RETRY_SECONDS", (0.0, 0.0))
    projection = Projection(3, KeyError("x"), [], [])

    runner = run(projection, 5, steps=runner_module.POISON_ATTEMPTS + 1)

    assert projection.applied == [1, 2, 4, 5]
    assert projection.parked == [(3, "KeyError('x')", runner_module.POISON_ATTEMPTS)]
    assert runner.position == 5
    assert runner.failing is None


def test_a_database_error_is_never_parked() -> None:
    projection = Projection(3, OperationalError("connection lost"), [], [])

    runner = run(projection, 5, steps=10)

    assert projection.parked == []
    assert runner.position == 0  # the page failed as a whole: retried, not split


def test_nul_becomes_the_replacement_character_everywhere() -> None:
    value = {"a\x00": ["x\x00y", ("\x00",)], "n": 1, "ok": "plain"}

    assert scrub(value) == {"a\ufffd": ["x\ufffdy", ("\ufffd",)], "n": 1, "ok": "plain"}
    clean = {"ok": "plain", "list": [1, "a"]}
    assert without_nul(clean) is clean  # nothing to replace: not even copied
    assert without_nul(value) == scrub(value)


def test_an_error_text_is_bounded_and_storable() -> None:
    text = error_text(ValueError("bad\x00" + "x" * 5000))

    assert text.startswith("ValueError: bad\ufffdx")
    assert len(text) == MAX_ERROR_CHARS
