"""Regions, collections, sales channels, categories and shipping profiles."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from service.runtime import Runtime
from tests.api.catalog.support import collection, created, post, product, region
from tests.support import Caller, named


def get(client: TestClient[Any], caller: Caller, path: str) -> Any:
    return client.get(path, headers=caller.headers)


def test_a_region_is_created_and_read_with_its_relations(
    client: TestClient[Any], admin: Caller
) -> None:
    made = region(client, admin, name="North America", currency_code="USD",
                  countries=["US", "ca"], tax_rate=12.5, metadata={"k": "v"})  # fmt: skip

    assert made["id"].startswith("reg_")
    assert (made["currency_code"], made["tax_rate"], made["tax_code"]) == (
        "usd",
        12.5,
        None,
    )
    assert made["currency"]["symbol"] == "$"
    assert [c["iso_2"] for c in made["countries"]] == ["us", "ca"]
    assert made["countries"][0]["display_name"] == "United States"
    assert made["payment_providers"] == [{"id": "manual", "is_installed": True}]
    assert get(client, admin, f"/admin/regions/{made['id']}").json() == {"region": made}
    listing = get(
        client, admin, "/admin/regions?fields=name,currency_code&expand="
    ).json()
    assert listing["regions"] == [
        {"id": made["id"], "created_at": made["created_at"], "name": "North America",
         "currency_code": "usd"}
    ]  # fmt: skip
    assert (listing["count"], listing["limit"]) == (1, 50)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, ("name must be a string, currency_code must be a string, tax_rate must be "
         "a number conforming to the specified constraints, each value in payment_providers "
         "must be a string, payment_providers must be an array, each value in "
         "fulfillment_providers must be a string, fulfillment_providers must be an array, "
         "each value in countries must be a string, countries must be an array")),
        ({"currency_code": "xyz"}, 400, "Invalid currency code"),
        ({"tax_rate": 120}, 400, "The tax_rate must be between 0 and 1"),
        ({"payment_providers": ["stripe"]}, 400, "Payment provider not found"),
        ({"countries": ["zz"]}, 400, "Invalid country code"),
        ({"includes_tax": True}, 400, "includes_tax should not exist"),
    ],
)  # fmt: skip
def test_invalid_regions_are_refused(
    client: TestClient[Any],
    admin: Caller,
    body: dict[str, Any],
    status: int,
    message: str,
) -> None:
    base = {"name": "EU", "currency_code": "eur", "tax_rate": 0, "payment_providers": [],
            "fulfillment_providers": [], "countries": []}  # fmt: skip

    response = post(client, admin, "/admin/regions", {**base, **body} if body else {})

    assert (response.status_code, response.json()["message"]) == (status, message)


def test_a_country_belongs_to_one_region(
    client: TestClient[Any], admin: Caller
) -> None:
    first = region(client, admin, countries=["us"])

    response = post(client, admin, "/admin/regions", {
        "name": "Again", "currency_code": "usd", "tax_rate": 0, "payment_providers": [],
        "fulfillment_providers": [], "countries": ["us"]})  # fmt: skip

    assert response.status_code == 422
    assert (
        response.json()["message"]
        == f"United States already exists in region {first['id']}"
    )


def test_an_unknown_region_is_not_found(client: TestClient[Any], admin: Caller) -> None:
    response = get(client, admin, "/admin/regions/reg_missing")

    assert response.status_code == 404
    assert response.json() == {
        "type": "not_found",
        "message": "Region with reg_missing was not found",
    }


def test_collections_are_created_listed_and_read_with_products(
    client: TestClient[Any], admin: Caller
) -> None:
    winter = created(client, admin, "/admin/collections",
                     {"title": "Winter", "handle": "winter-wear", "metadata": {"s": "w"}},
                     "collection")  # fmt: skip
    collection(client, admin, "Summer Sale 2024!")
    shirt = product(client, admin, "Shirt", collection_id=winter["id"])

    assert (winter["handle"], winter["products"]) == ("winter-wear", [])
    listing = get(client, admin, "/admin/collections?q=winter").json()
    assert listing["count"] == 1
    assert set(listing["collections"][0]) == {
        "id",
        "created_at",
        "updated_at",
        "title",
        "handle",
        "products",
    }
    assert listing["collections"][0]["products"][0]["id"] == shirt["id"]
    everything = get(client, admin, "/admin/collections").json()["collections"]
    assert [c["handle"] for c in everything] == ["summer-sale-2024", "winter-wear"]
    fetched = get(client, admin, f"/admin/collections/{winter['id']}").json()[
        "collection"
    ]
    assert fetched["products"][0]["profile"]["type"] == "default"
    assert "variants" not in fetched["products"][0]


def test_collection_errors(client: TestClient[Any], admin: Caller) -> None:
    collection(client, admin, "Winter Wear")

    empty = post(client, admin, "/admin/collections", {})
    duplicate = post(client, admin, "/admin/collections", {"title": "Winter Wear"})
    expand = get(client, admin, "/admin/collections?expand=products")
    missing = get(client, admin, "/admin/collections/pcol_missing")

    assert (
        empty.json()["message"] == "title should not be empty, title must be a string"
    )
    assert duplicate.status_code == 422
    assert (
        duplicate.json()["message"]
        == "Product_collection with handle winter-wear already exists."
    )
    assert expand.json()["message"] == "property expand should not exist"
    assert (
        missing.json()["message"]
        == "Product collection with id: pcol_missing was not found"
    )


def test_sales_channels_include_the_default_one(
    client: TestClient[Any], admin: Caller
) -> None:
    response = post(client, admin, "/admin/sales-channels",
                    {"name": "Web Shop", "description": "Online store"})  # fmt: skip
    channel = response.json()["sales_channel"]

    assert list(channel) == ["name", "description", "id", "deleted_at", "metadata",
                             "created_at", "updated_at", "is_disabled"]  # fmt: skip
    listing = get(client, admin, "/admin/sales-channels").json()
    assert [c["name"] for c in listing["sales_channels"]] == [
        "Web Shop", "Default Sales Channel"]  # fmt: skip
    assert listing["sales_channels"][1]["description"] == "Created by Medusa"
    assert (listing["count"], listing["limit"]) == (2, 20)
    assert get(client, admin, "/admin/sales-channels?q=online").json()["count"] == 1
    assert (
        get(client, admin, f"/admin/sales-channels/{channel['id']}").status_code == 200
    )


def test_sales_channel_errors(client: TestClient[Any], admin: Caller) -> None:
    invalid = post(client, admin, "/admin/sales-channels",
                   {"name": 1, "is_disabled": "yes", "foo": 1})  # fmt: skip
    unknown_filter = get(client, admin, "/admin/sales-channels?is_disabled=true")
    missing = get(client, admin, "/admin/sales-channels/sc_missing")

    assert invalid.json()["message"] == (
        "property foo should not exist, name must be a string, "
        "is_disabled must be a boolean value"
    )
    assert unknown_filter.json()["message"] == "property is_disabled should not exist"
    assert (missing.status_code, missing.json()["message"]) == (
        404, "Sales channel with id: sc_missing was not found")  # fmt: skip


def test_categories_rank_nest_and_list_by_rank(
    client: TestClient[Any], admin: Caller
) -> None:
    path = "/admin/product-categories"
    mens = created(client, admin, path, {"name": "Men's Shirts"}, "product_category")
    tees = created(client, admin, path, {"name": "T Shirts", "description": "Tees",
                   "is_active": True, "parent_category_id": mens["id"], "metadata": {"m": 1}},
                   "product_category")  # fmt: skip
    second_root = created(client, admin, path, {"name": "Shoes"}, "product_category")

    assert (mens["handle"], mens["description"], mens["rank"]) == ("mens-shirts", "", 0)
    assert (tees["rank"], tees["parent_category"]["id"]) == (0, mens["id"])
    assert second_root["rank"] == 2
    listing = get(client, admin, path).json()
    assert next(iter(listing)) == "count"
    assert [c["handle"] for c in listing["product_categories"]] == [
        "mens-shirts", "t-shirts", "shoes"]  # fmt: skip
    assert listing["product_categories"][0]["category_children"][0]["id"] == tees["id"]
    roots = get(client, admin, f"{path}?parent_category_id=null").json()
    assert roots["count"] == 2
    fetched = get(client, admin, f"{path}/{mens['id']}").json()["product_category"]
    assert fetched["category_children"][0]["category_children"] == []


def test_category_errors(client: TestClient[Any], admin: Caller) -> None:
    path = "/admin/product-categories"
    created(client, admin, path, {"name": "T Shirts"}, "product_category")

    empty = post(client, admin, path, {})
    duplicate = post(client, admin, path, {"name": "T-Shirts", "handle": "t-shirts"})
    orphan = post(
        client, admin, path, {"name": "x", "parent_category_id": "pcat_missing"}
    )
    expand = get(client, admin, f"{path}?expand=products")

    assert empty.json()["message"] == "name should not be empty, name must be a string"
    assert (duplicate.status_code, duplicate.json()["message"]) == (
        422, "Product_category with handle t-shirts already exists.")  # fmt: skip
    assert (orphan.status_code, orphan.json()["message"]) == (
        404, "ProductCategory with id: pcat_missing was not found")  # fmt: skip
    assert expand.json()["message"] == "Requested fields [products] are not valid"


def test_products_join_categories_and_filter_by_subtree(
    client: TestClient[Any], admin: Caller
) -> None:
    path = "/admin/product-categories"
    top = created(client, admin, path, {"name": "Top"}, "product_category")
    child = created(client, admin, path, {"name": "Child", "parent_category_id": top["id"]},
                    "product_category")  # fmt: skip
    shirt = product(client, admin, "Shirt", categories=[{"id": child["id"]}])

    direct = get(client, admin, f"/admin/products?category_id[]={top['id']}").json()
    subtree = get(client, admin, f"/admin/products?category_id[]={top['id']}"
                  "&include_category_children=true").json()  # fmt: skip
    missing = post(client, admin, "/admin/products",
                   {"title": "x", "categories": [{"id": "pcat_missing"}]})  # fmt: skip

    assert shirt["categories"][0]["id"] == child["id"]
    assert (direct["count"], subtree["count"]) == (0, 1)
    assert missing.json()["message"] == (
        "Product_category with product_category_id pcat_missing does not exist."
    )


def test_shipping_profiles_are_the_two_defaults(
    client: TestClient[Any], admin: Caller
) -> None:
    shirt = product(client, admin)

    body = get(client, admin, "/admin/shipping-profiles").json()
    default = body["shipping_profiles"][0]
    fetched = get(client, admin, f"/admin/shipping-profiles/{default['id']}").json()

    assert list(body) == ["shipping_profiles"]
    assert [(p["name"], p["type"]) for p in body["shipping_profiles"]] == [
        ("Default Shipping Profile", "default"), ("Gift Card Profile", "gift_card")]  # fmt: skip
    assert [p["id"] for p in fetched["shipping_profile"]["products"]] == [shirt["id"]]
    assert get(client, admin, "/admin/shipping-profiles/sp_missing").json()[
        "message"
    ] == ("Profile with id: sp_missing was not found")


def test_record_events_record_their_actor(
    client: TestClient[Any], admin: Caller, runtime: Runtime
) -> None:
    made = region(client, admin)
    winter = collection(client, admin, "Winter")

    for record_id, name in ((made["id"], "region.created"),
                            (winter["id"], "product-collection.created")):  # fmt: skip
        events = runtime.app.repository.event_store.get(record_id)
        assert named(events) == [(name, admin.user.id)]
