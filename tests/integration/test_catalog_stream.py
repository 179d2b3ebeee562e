"""Catalog events reach the stream through the relay; the workers never see them."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import nats
import pytest
from litestar.testing import TestClient
from nats.js.api import AckPolicy, ConsumerConfig

from service.http.app import create_app
from service.messaging import envelope
from service.messaging.worker import consumer_name
from service.relay_process import running_relay
from service.runtime import Runtime
from service.strategies.registry import StrategyRegistry
from service.worker_process import running_worker
from tests.support import ScriptedStrategy, new_user

if TYPE_CHECKING:
    from nats.js.client import JetStreamContext

    from service.settings import Settings

pytestmark = pytest.mark.integration

PRODUCT = {
    "title": "Basic Shirt",
    "options": [{"title": "Size"}],
    "variants": [
        {
            "title": "S",
            "sku": "SHIRT-S",
            "options": [{"value": "S"}],
            "prices": [{"currency_code": "eur", "amount": 1950}],
        }
    ],
}


async def received(
    js: JetStreamContext, subject: str, durable: str, until_event: str
) -> list[tuple[str, envelope.CatalogEventEnvelope]]:
    """A subscriber's messages, acked, up to and including `until_event`."""
    sub = await js.pull_subscribe(
        subject, durable=durable, config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT)
    )
    messages: list[tuple[str, envelope.CatalogEventEnvelope]] = []
    deadline = time.monotonic() + 15
    try:
        while not messages or messages[-1][1].event != until_event:
            assert time.monotonic() < deadline, [m.event for _, m in messages]
            try:
                batch = await sub.fetch(10, timeout=0.5)
            except TimeoutError:
                continue
            for msg in batch:
                messages.append((msg.subject, envelope.decode_catalog(msg.data)))
                await msg.ack()
    finally:
        await sub.unsubscribe()
    return messages


async def test_a_subscriber_follows_a_product_and_a_worker_sees_none_of_it(
    nats_settings: Settings,
) -> None:
    prefix = nats_settings.nats_subject_prefix
    registry = StrategyRegistry([ScriptedStrategy()])
    # The API alone (jobs run on the worker); the client's lifespan starts and stops it.
    api = Runtime(nats_settings, registry=registry, process_jobs=False)
    nc = await nats.connect(nats_settings.nats_url or "")
    try:
        async with (
            running_relay(nats_settings),
            running_worker(nats_settings, registry) as worker,
        ):
            with TestClient(app=create_app(api)) as client:
                admin = new_user(api)

                def call(method: str, path: str, body: Any = None) -> dict[str, Any]:
                    response = client.request(
                        method, path, json=body, headers=admin.headers
                    )
                    assert response.status_code in {200, 201}, response.text
                    answer: dict[str, Any] = response.json()
                    return answer

                product = (
                    await asyncio.to_thread(call, "POST", "/admin/products", PRODUCT)
                )["product"]
                variant = product["variants"][0]
                await asyncio.to_thread(
                    call,
                    "POST",
                    f"/admin/products/{product['id']}",
                    {
                        "title": "Better Shirt",
                        "variants": [
                            {
                                "id": variant["id"],
                                "prices": [{"currency_code": "eur", "amount": 2500}],
                            }
                        ],
                    },
                )
                await asyncio.to_thread(
                    call, "DELETE", f"/admin/products/{product['id']}"
                )
                job = await asyncio.to_thread(
                    call,
                    "POST",
                    "/admin/batch-jobs",
                    {"type": "product-export", "context": {}, "dry_run": True},
                )
            js = nc.jetstream()
            messages = await received(
                js, f"{prefix}.catalog.>", "catalog-follower", "product.deleted"
            )
            # The worker got its batch job's work, and nothing of the catalog.
            created = consumer_name(nats_settings.worker_durable, "batch.created")
            deadline = time.monotonic() + 15
            while (
                info := await js.consumer_info(nats_settings.nats_stream, created)
            ).delivered.consumer_seq < 1:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            assert worker.registry.batch_types == ["product-export"]
    finally:
        await nc.close()

    ours = [(s, m) for s, m in messages if m.entity_id == product["id"]]
    assert [s for s, _ in ours] == [
        f"{prefix}.catalog.product.created",
        f"{prefix}.catalog.product.updated",
        f"{prefix}.catalog.product-variant.updated",
        f"{prefix}.catalog.product.deleted",
    ]
    first, updated, price = (m for _, m in ours[:3])
    assert (first.schema_version, first.entity, first.entity_version) == (
        1,
        "product",
        1,
    )
    assert first.event_id == f"{product['id']}:1"
    assert first.actor == admin.user.id
    assert first.payload["attributes"]["title"] == "Basic Shirt"
    assert first.payload["variants"][0]["prices"][0]["amount"] == 1950
    assert updated.payload == {"changes": {"title": "Better Shirt"}}
    assert price.payload["variant_id"] == variant["id"]
    assert [p["amount"] for p in price.payload["changes"]["prices"]] == [2500]
    positions = [m.position for _, m in ours]
    assert positions == sorted(positions)
    assert [m.entity_version for _, m in ours] == [1, 2, 3, 4]
    # One message delivered to the worker: its job's `batch.created`, no catalog event.
    assert (info.delivered.consumer_seq, info.num_pending) == (1, 0)
    assert job["batch_job"]["status"] == "created"
