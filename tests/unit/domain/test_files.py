"""Who may use a stored file: its owner; an unowned (older) file, admins."""

from __future__ import annotations

from typing import cast

import pytest

from domain.files import FileExpiredError, FileNotYoursError, FileOwner, may_use
from domain.users import UserRole


@pytest.mark.parametrize(
    ("owner", "role", "allowed"),
    [
        ("usr_a", UserRole.MEMBER, True),
        ("usr_b", UserRole.MEMBER, False),
        ("usr_b", UserRole.DEVELOPER, False),
        (None, UserRole.MEMBER, False),  # stored before owners were recorded
        ("usr_b", UserRole.ADMIN, False),  # no role bypass, as for batch jobs
        (None, UserRole.ADMIN, True),
        ("usr_a", None, True),  # no such user, but the record names it
        (None, None, False),
    ],
)
def test_only_the_owner_uses_a_file_and_admins_the_unowned_ones(
    owner: str | None, role: UserRole | None, *, allowed: bool
) -> None:
    assert may_use(owner, "usr_a", role) is allowed


def test_an_owner_record_names_its_key_owner_and_actor() -> None:
    record = FileOwner.record("protected/1-a.csv", "usr_a", "batch:batch_1")

    [created] = record.collect_events()

    assert isinstance(created, FileOwner.Created)
    assert record.id == "file-owner:protected/1-a.csv"
    assert (record.owner, created.owner, created.actor) == (
        "usr_a",
        "usr_a",
        "batch:batch_1",
    )


def test_the_refusal_names_the_file() -> None:
    assert FileNotYoursError("k", "usr_b").message == "File k belongs to another user"
    assert FileNotYoursError("k", None).type == "not_allowed"


def test_a_removal_for_age_is_recorded_once_and_replays() -> None:
    record = FileOwner.record("exports/products/e.csv", "usr_a", "batch:batch_1")

    first = record.expire(168, "retention:host:1")
    again = record.expire(168, "retention:host:2")
    events = cast("list[FileOwner.Event]", record.collect_events())
    replayed: FileOwner | None = None
    for event in events:
        replayed = cast("FileOwner | None", event.mutate(replayed))

    assert (first, again) == (True, False)
    assert [type(e).__name__ for e in events] == ["Created", "Expired"]
    assert isinstance(replayed, FileOwner)
    assert (replayed.expired_at, replayed.retention_hours) == (events[1].timestamp, 168)
    error = FileExpiredError("exports/products/e.csv", events[1].timestamp, 168)
    assert error.type == "not_found"
    assert "168 hours after it was stored" in str(error)
