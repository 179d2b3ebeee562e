"""The catalog read model: rebuilt from events, export paging, import change sets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from litestar.testing import TestClient

from domain.errors import DuplicateError
from projections.catalog.query import ProductFilter
from service.catalog.commands import batch_actor
from service.catalog.lookups import CatalogLookups
from service.http.app import create_app
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.registry import StrategyRegistry
from tests.api.catalog.support import collection, post, product, region, shirt_body
from tests.support import Caller, ScriptedStrategy, named


def drop_catalog_read_model(settings: Settings, tmp_path: Path) -> None:
    if settings.database_url is None:
        (tmp_path / "catalog.sqlite").unlink()
        return
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        for table in ("catalog_products", "catalog_records", "catalog_variants",
                      "catalog_tracking"):  # fmt: skip
            conn.execute(f"DROP TABLE {table}")


def test_the_read_model_rebuilds_from_the_events_after_its_tables_are_dropped(  # noqa: PLR0917
    settings: Settings, tmp_path: Path, strategy: ScriptedStrategy, runtime: Runtime,
    client: TestClient[Any], admin: Caller,
) -> None:  # fmt: skip
    winter = collection(client, admin, "Winter")
    region(client, admin)
    shirt = post(
        client, admin, "/admin/products", shirt_body(collection_id=winter["id"])
    )
    post(
        client,
        admin,
        f"/admin/products/{shirt.json()['product']['id']}",
        {"title": "New"},
    )
    before = [
        client.get(path, headers=admin.headers).json()
        for path in ("/admin/products", "/admin/regions", "/admin/collections",
                     "/admin/sales-channels", "/admin/shipping-profiles")
    ]  # fmt: skip
    client.__exit__(None, None, None)

    drop_catalog_read_model(settings, tmp_path)
    second = Runtime(settings, registry=StrategyRegistry([strategy]))
    with TestClient(app=create_app(second)) as again:
        after = [
            again.get(path, headers=admin.headers).json()
            for path in ("/admin/products", "/admin/regions", "/admin/collections",
                         "/admin/sales-channels", "/admin/shipping-profiles")
        ]  # fmt: skip

    assert after == before
    assert after[0]["products"][0]["title"] == "New"


def test_export_pages_return_every_product_once_in_id_order(
    client: TestClient[Any], admin: Caller, runtime: Runtime
) -> None:
    made = sorted(product(client, admin, f"Product {n}")["id"] for n in range(23))
    view = runtime.catalog_reads.view

    pages = list(view.iter_products(ProductFilter(), page_size=10))

    assert [len(page) for page in pages] == [10, 10, 3]  # a page at a time
    ids = [json.loads(document)["id"] for page in pages for document in page]
    assert ids == made
    assert view.count_products(ProductFilter()) == 23
    first = view.page_products(ProductFilter(), limit=10)
    assert first.last_id == made[9]
    rest = view.page_products(
        ProductFilter(ids=tuple(made[:3])), after=made[0], limit=10
    )
    assert ([json.loads(d)["id"] for d in rest.documents], rest.last_id) == (
        made[1:3],
        None,
    )


def test_export_pages_carry_full_documents_and_honour_filters(
    client: TestClient[Any], admin: Caller, runtime: Runtime
) -> None:
    winter = collection(client, admin, "Winter")
    europe = region(client, admin)
    post(client, admin, "/admin/products", shirt_body(collection_id=winter["id"]))
    product(client, admin, "Other")
    view = runtime.catalog_reads.view

    page = view.page_products(ProductFilter(collection_ids=(winter["id"],)))
    searched = view.page_products(ProductFilter(q="basic", handle="basic-shirt"))

    document = json.loads(page.documents[0])
    assert len(page.documents) == 1
    assert searched.documents == page.documents
    assert document["variants"][0]["prices"][0]["amount"] == 1500
    assert document["options"][0]["values"][0]["value"] == "S"
    assert document["collection"]["id"] == winter["id"]
    assert document["profile"]["type"] == "default"
    assert document["sales_channels"][0]["name"] == "Default Sales Channel"
    assert view.count_products(ProductFilter(collection_ids=(winter["id"],))) == 1
    assert [(r.id, r.name, r.currency_code) for r in view.list_regions()] == [
        (europe["id"], "Europe", "eur")]  # fmt: skip


def test_an_import_change_set_saves_many_products_atomically_as_the_batch(
    client: TestClient[Any], admin: Caller, runtime: Runtime
) -> None:
    shirt = post(client, admin, "/admin/products", shirt_body()).json()["product"]
    europe = region(client, admin, name="EU")
    catalog, actor = runtime.catalog, batch_actor("batch_01")
    lookups = CatalogLookups(runtime.app, runtime.catalog_reads.view)
    product_id, variant_id = lookups.variant_by_sku("BASIC-SHIRT-S-BLK") or ("", "")
    region_id = lookups.region_by_name("EU")

    changes = catalog.changes(actor)
    catalog.create_product(changes, {"title": "Hat", "variants": [
        {"title": "One", "prices": [{"region_id": europe["id"], "amount": 700}]}]})  # fmt: skip
    existing = catalog.get_product(changes, product_id)
    existing.update_variant(
        variant_id, {"title": "Renamed"}, catalog.context(changes, {}), actor
    )
    position = changes.save()
    runtime.catalog_reads.settle(position)

    assert product_id == shirt["id"]
    assert region_id is not None and region_id.id == europe["id"]
    assert lookups.product_id_by_handle("hat") is not None
    assert lookups.variant_by_id(variant_id) == (product_id, variant_id)
    assert lookups.sales_channel("Default Sales Channel") is not None
    updated = json.loads(runtime.catalog_reads.view.get_product(product_id) or "{}")
    assert updated["variants"][0]["title"] == "Renamed"
    assert updated["variants"][0]["prices"] == shirt["variants"][0]["prices"]
    events = runtime.app.repository.event_store.get(product_id)
    assert named(events)[-1] == ("product-variant.updated", "batch:batch_01")


def test_a_failing_change_set_saves_nothing(
    client: TestClient[Any], admin: Caller, runtime: Runtime
) -> None:
    product(client, admin, "Taken")
    changes = runtime.catalog.changes(batch_actor("batch_02"))
    runtime.catalog.create_product(changes, {"title": "Fresh"})
    runtime.catalog.create_product(changes, {"title": "Taken"})

    with pytest.raises(DuplicateError):
        changes.save()

    listing = client.get("/admin/products", headers=admin.headers).json()
    assert [p["title"] for p in listing["products"]] == ["Taken"]
