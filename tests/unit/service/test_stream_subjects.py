"""Which subjects a stream's filters capture, and what an existing stream lacks."""

from __future__ import annotations

import pytest
from nats.js.api import StreamConfig

from service.messaging.streams import StreamLimits, covers, reconciled


@pytest.mark.parametrize(
    ("subject_filter", "subject", "expected"),
    [
        ("jobstream.>", "jobstream.catalog.>", True),
        ("jobstream.>", "jobstream.batch.created", True),
        (">", "jobstream.catalog.>", True),
        ("jobstream.*.>", "jobstream.catalog.>", True),
        ("jobstream.batch.>", "jobstream.catalog.>", False),
        ("jobstream.catalog.>", "jobstream.catalog.>", True),
        ("jobstream.catalog.*", "jobstream.catalog.>", False),  # one token, not many
        ("jobstream.>", "jobstream", False),  # `>` needs one token at least
        ("other.>", "jobstream.catalog.>", False),
        ("jobstream.catalog.product.created", "jobstream.catalog.>", False),
    ],
)
def test_a_filter_covers_a_subject_only_if_it_matches_all_it_matches(
    subject_filter: str, subject: str, *, expected: bool
) -> None:
    assert covers(subject_filter, subject) is expected


def test_a_stream_with_what_it_needs_is_not_changed() -> None:
    config = StreamConfig(name="S", subjects=["p.>"], max_age=3600, max_bytes=-1)

    assert reconciled(config, "p", StreamLimits(max_age_hours=1, max_bytes=0)) is None
    assert reconciled(config, "p", StreamLimits()) is None


def test_an_old_stream_gets_the_missing_family_and_the_limits_only() -> None:
    config = StreamConfig(name="S", subjects=["p.batch.>"], max_msgs=5, num_replicas=3)

    update = reconciled(config, "p", StreamLimits(max_age_hours=2, max_bytes=None))

    assert update is not None
    assert update.subjects == ["p.batch.>", "p.catalog.>"]
    assert (update.max_age, update.max_bytes) == (7200, None)
    assert (update.max_msgs, update.num_replicas) == (5, 3)  # the operator's, kept
