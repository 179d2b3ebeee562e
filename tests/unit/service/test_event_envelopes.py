"""Each published event's subject and envelope: batch jobs and the catalog's products."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from domain.batch_jobs import BatchJob
from domain.catalog.products import Product
from domain.catalog.regions import Region
from service.audit.stream import _line
from service.messaging import envelope
from service.messaging.relay import TOPICS


def test_a_batch_event_keeps_its_subject_and_envelope() -> None:
    job = BatchJob.create(
        batch_type="t", created_by="usr_1", context={}, dry_run=True, actor="usr_1"
    )
    [created] = job.collect_events()

    message = envelope.outgoing("js", 7, created)

    assert message.subject == "js.batch.created"
    assert message.event_id == f"{job.id}:1"
    assert envelope.decode(message.data).payload["type"] == "t"


def test_a_product_event_goes_under_catalog_in_the_catalog_envelope() -> None:
    event = Product.Deleted(
        originator_id="prod_1", originator_version=4,
        timestamp=datetime(2026, 3, 1, 12, tzinfo=UTC), actor="usr_1",
    )  # fmt: skip

    message = envelope.outgoing("js", 9, event)
    body = json.loads(message.data)

    assert message.subject == "js.catalog.product.deleted"
    assert list(body) == [
        "schema_version", "event_id", "entity", "entity_id", "entity_version",
        "event", "occurred_at", "actor", "position", "payload",
    ]  # fmt: skip
    assert (body["event_id"], body["entity"], body["position"]) == (
        "prod_1:4",
        "product",
        9,
    )
    assert body["payload"] == {}
    line = _line(3, message.data, as_json=False)
    assert line.split() == [
        "3", "2026-03-01T12:00:00.000Z", "product.deleted", "prod_1", "usr_1"
    ]  # fmt: skip


def test_the_relay_reads_product_events_and_no_other_catalog_ones() -> None:
    topics = set(TOPICS)

    assert any(topic.endswith("Product.VariantUpdated") for topic in topics)
    assert not any(topic.endswith(f"{Region.__name__}.Created") for topic in topics)
    with pytest.raises(TypeError, match="not a published event"):
        envelope.outgoing("js", 1, object())  # type: ignore[arg-type]
