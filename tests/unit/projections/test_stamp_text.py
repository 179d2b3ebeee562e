"""Stamps rendered from memory read the same as rendered afresh, and memory stays bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from projections import stamp_text
from projections.batch_jobs.document import iso
from projections.stamp_text import remembered


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def test_an_instant_is_rendered_once_and_then_answered_from_memory() -> None:
    calls: list[datetime] = []

    def render(moment: datetime) -> str:
        calls.append(moment)
        return utc_text(moment)

    cached = remembered(render)
    moment = datetime(2026, 12, 6, 5, 40, 1, 123456, tzinfo=UTC)

    first = cached(moment)
    again = cached(datetime.fromisoformat("2026-12-06T05:40:01.123456+00:00"))

    assert first == again == "2026-12-06T05:40:01.123456+00:00"
    assert calls == [moment]


def test_the_same_instant_in_another_zone_reads_as_its_utc_text() -> None:
    cached = remembered(utc_text)
    utc = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)
    paris = utc.astimezone(timezone(timedelta(hours=1)))

    assert cached(utc) == cached(paris) == utc_text(paris)


def test_a_full_memory_starts_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stamp_text, "KEPT", 3)
    calls: list[datetime] = []

    def render(moment: datetime) -> str:
        calls.append(moment)
        return utc_text(moment)

    cached = remembered(render)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    moments = [start + timedelta(seconds=i) for i in range(4)]
    for moment in moments:
        cached(moment)
    cached(moments[0])  # dropped with the rest when the fourth came

    assert calls == [*moments, moments[0]]


def test_medusa_stamps_keep_their_text() -> None:
    moment = datetime(2026, 12, 6, 5, 40, 1, 123456, tzinfo=UTC)

    assert iso(moment) == "2026-12-06T05:40:01.123Z"
    assert iso(moment.astimezone(timezone(timedelta(hours=-5)))) == (
        "2026-12-06T05:40:01.123Z"
    )
    assert iso(None) is None
