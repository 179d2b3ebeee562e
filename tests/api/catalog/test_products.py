"""Products: create, get, update, delete, Medusa's defaults, messages and actors."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from domain.catalog.products import Product
from service.runtime import Runtime
from tests.api.catalog.support import collection, post, product, region, shirt_body
from tests.support import Caller, named

SUFFIX = "\nCannot read properties of undefined (reading 'length')"


def test_a_created_product_has_medusas_defaults_and_relations(
    client: TestClient[Any], admin: Caller
) -> None:
    winter = collection(client, admin, "Winter Wear")
    body = shirt_body(
        collection_id=winter["id"], tags=[{"value": "summer"}], type={"value": "apparel"},
        images=["https://example.com/a.png"],
    )  # fmt: skip

    created = product(client, admin, **{k: v for k, v in body.items() if k != "title"})

    assert created["id"].startswith("prod_")
    assert (created["handle"], created["status"]) == ("basic-shirt", "draft")
    assert (created["discountable"], created["is_giftcard"]) == (True, False)
    assert created["thumbnail"] == "https://example.com/a.png"
    assert created["collection"]["handle"] == "winter-wear"
    assert created["profile"]["name"] == "Default Shipping Profile"
    assert created["profiles"] == [created["profile"]]
    assert created["profile_id"] == created["profile"]["id"]
    assert [c["name"] for c in created["sales_channels"]] == ["Default Sales Channel"]
    assert created["tags"][0]["value"] == "summer"
    assert created["type"]["value"] == "apparel"
    variant = created["variants"][0]
    assert variant["variant_rank"] == 0
    assert variant["prices"][0]["currency_code"] == "usd"
    assert variant["prices"][0]["amount"] == 1500
    assert variant["calculated_price"] is None
    assert [v["value"] for v in variant["options"]] == ["S", "Black"]
    size = created["options"][0]
    assert size["values"][0]["variant_id"] == variant["id"]
    fetched = client.get(f"/admin/products/{created['id']}", headers=admin.headers)
    assert fetched.json() == {"product": created}


def test_tags_with_the_same_value_share_an_id(
    client: TestClient[Any], admin: Caller
) -> None:
    first = product(client, admin, "One", tags=[{"value": "new"}])
    second = product(client, admin, "Two", tags=[{"value": "new"}])

    assert first["tags"][0]["id"] == second["tags"][0]["id"]


def test_a_gift_card_gets_the_gift_card_profile_and_is_not_discountable(
    client: TestClient[Any], admin: Caller
) -> None:
    card = product(client, admin, "Gift Card", is_giftcard=True)

    assert card["profile"]["type"] == "gift_card"
    assert card["discountable"] is False


def test_a_region_price_takes_the_regions_currency(
    client: TestClient[Any], admin: Caller
) -> None:
    europe = region(client, admin)
    body = shirt_body()
    body["variants"][0]["prices"] = [
        {"region_id": europe["id"], "amount": 1799, "min_quantity": 2}
    ]

    created = post(client, admin, "/admin/products", body).json()["product"]

    price = created["variants"][0]["prices"][0]
    assert (price["currency_code"], price["region_id"]) == ("eur", europe["id"])
    assert (price["amount"], price["min_quantity"]) == (1799, None)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "title must be a string"),
        ({"title": "x", "status": "live"},
         "status must be one of the following values: draft, proposed, published, rejected"),
        ({"title": "x", "external_id": "e"}, "property external_id should not exist"),
        ({"title": "x", "tags": ["new"]},
         "each value in nested property tags must be either object or array"),
        ({"title": "x", "weight": "10"},
         "weight must be a number conforming to the specified constraints"),
        ({"title": "x", "is_giftcard": None}, "is_giftcard must be a boolean value"),
        ({"title": "x", "variants": [{"title": "v"}]}, "prices must be an array"),
        ({"title": "x", "variants": [{"prices": []}]}, "title must be a string"),
        ({"title": "x", "variants": [{"title": "v", "prices": [{"amount": 1.5,
          "currency_code": "usd"}]}]}, "amount must be an integer number"),
        ({"title": "x", "variants": [{"title": "v", "prices": [{"amount": 1}]}]},
         ('Failed XOR relation between "region_id" and "currency_code"., '
          'Failed XOR relation between "currency_code" and "region_id".')),
        ({"title": "x", "options": [{"title": "Size"}],
          "variants": [{"title": "v", "prices": []}]},
         ("Product options length does not match variant options length. "
          f"Product has 1 and variant has 0.{SUFFIX}")),
    ],
)  # fmt: skip
def test_invalid_product_bodies_get_medusas_messages(
    client: TestClient[Any], admin: Caller, body: dict[str, Any], message: str
) -> None:
    response = post(client, admin, "/admin/products", body)

    assert response.status_code == 400
    assert response.json() == {"type": "invalid_data", "message": message}


def test_references_that_do_not_exist_are_refused_as_medusa_does(
    client: TestClient[Any], admin: Caller
) -> None:
    channel = post(client, admin, "/admin/products",
                   {"title": "x", "sales_channels": [{"id": "sc_missing"}]})  # fmt: skip
    col = post(client, admin, "/admin/products",
               {"title": "x", "collection_id": "pcol_missing"})  # fmt: skip

    assert channel.status_code == 400
    assert channel.json() == {
        "errors": ["Sales Channels sc_missing do not exist"],
        "message": "Provided request body contains errors. Please check the data and "
        "retry the request",
    }
    assert col.status_code == 404
    assert col.json() == {
        "type": "not_found",
        "message": "Product_collection with collection_id pcol_missing does not exist.",
    }


def test_a_taken_handle_or_sku_is_refused(
    client: TestClient[Any], admin: Caller
) -> None:
    post(client, admin, "/admin/products", shirt_body(handle="plain-tee"))
    handle = post(
        client, admin, "/admin/products", {"title": "y", "handle": "plain-tee"}
    )
    sku = post(client, admin, "/admin/products", shirt_body(title="Other"))

    assert handle.status_code == 422
    assert handle.json() == {
        "type": "duplicate_error", "code": "invalid_request_error",
        "message": "Product with handle plain-tee already exists.",
    }  # fmt: skip
    assert sku.status_code == 400
    assert sku.json()["message"].endswith(SUFFIX)


def test_an_unknown_product_is_not_found(
    client: TestClient[Any], admin: Caller
) -> None:
    for response in (
        client.get("/admin/products/prod_missing", headers=admin.headers),
        post(client, admin, "/admin/products/prod_missing", {"title": "x"}),
    ):
        assert response.status_code == 404
        assert response.json() == {
            "type": "not_found", "message": "Product with id: prod_missing was not found",
        }  # fmt: skip


def test_an_update_changes_columns_merges_metadata_and_replaces_variants(
    client: TestClient[Any], admin: Caller
) -> None:
    shirt = product(
        client, admin, **{**shirt_body(metadata={"source": "ref"}), "title": "A"}
    )
    variant = shirt["variants"][0]
    size, color = (option["id"] for option in shirt["options"])
    body = {
        "title": "Renamed", "metadata": {"source": "", "added": 1}, "tags": [],
        "variants": [
            {"id": variant["id"], "title": "S / Black v2"},
            {"title": "M / Black", "inventory_quantity": 3,
             "prices": [{"currency_code": "eur", "amount": 900}],
             "options": [{"option_id": size, "value": "M"},
                         {"option_id": color, "value": "Black"}]},
        ],
    }  # fmt: skip

    response = post(client, admin, f"/admin/products/{shirt['id']}", body)

    assert response.status_code == 200, response.text
    updated = response.json()["product"]
    assert (updated["title"], updated["metadata"], updated["tags"]) == (
        "Renamed",
        {"added": 1},
        [],
    )
    kept, added = updated["variants"]
    assert kept["title"] == "S / Black v2"
    assert kept["prices"] == variant["prices"]  # no prices sent: prices kept
    assert (added["variant_rank"], added["prices"][0]["amount"]) == (1, 900)


def test_updated_prices_match_by_currency_and_drop_the_rest(
    client: TestClient[Any], admin: Caller
) -> None:
    shirt = post(client, admin, "/admin/products", shirt_body()).json()["product"]
    variant = shirt["variants"][0]
    usd = variant["prices"][0]
    body = {"variants": [{"id": variant["id"], "prices": [
        {"currency_code": "usd", "amount": 2000}, {"currency_code": "eur", "amount": 10},
    ]}]}  # fmt: skip

    updated = post(client, admin, f"/admin/products/{shirt['id']}", body).json()[
        "product"
    ]

    prices = {p["currency_code"]: p for p in updated["variants"][0]["prices"]}
    assert (prices["usd"]["id"], prices["usd"]["amount"]) == (usd["id"], 2000)
    assert prices["eur"]["amount"] == 10
    again = post(client, admin, f"/admin/products/{shirt['id']}", {"variants": [
        {"id": variant["id"], "prices": [{"currency_code": "eur", "amount": 11}]}]})  # fmt: skip
    assert [
        p["currency_code"] for p in again.json()["product"]["variants"][0]["prices"]
    ] == ["eur"]


def test_an_update_refuses_a_variant_of_another_product(
    client: TestClient[Any], admin: Caller
) -> None:
    other = post(client, admin, "/admin/products", shirt_body()).json()["product"]
    mine = product(client, admin, "Mine")
    foreign = other["variants"][0]["id"]

    response = post(client, admin, f"/admin/products/{mine['id']}",
                    {"variants": [{"id": foreign}]})  # fmt: skip

    assert response.status_code == 404
    assert response.json()["message"] == (
        f"Variants with id: {foreign} are not associated with this product"
    )


def test_delete_is_idempotent_and_frees_the_handle(
    client: TestClient[Any], admin: Caller
) -> None:
    shirt = product(client, admin, "Plain Tee")

    first = client.delete(f"/admin/products/{shirt['id']}", headers=admin.headers)
    second = client.delete("/admin/products/prod_missing", headers=admin.headers)

    assert first.json() == {"id": shirt["id"], "object": "product", "deleted": True}
    assert second.json() == {"id": "prod_missing", "object": "product", "deleted": True}
    gone = client.get(f"/admin/products/{shirt['id']}", headers=admin.headers)
    assert gone.status_code == 404
    assert product(client, admin, "Plain Tee")["handle"] == "plain-tee"


def test_every_product_event_records_its_actor(
    client: TestClient[Any], admin: Caller, runtime: Runtime
) -> None:
    shirt = post(client, admin, "/admin/products", shirt_body()).json()["product"]
    post(client, admin, f"/admin/products/{shirt['id']}", {"title": "New"})
    client.delete(f"/admin/products/{shirt['id']}", headers=admin.headers)

    events = list(runtime.app.repository.event_store.get(shirt["id"]))

    assert named(events) == [
        ("product.created", admin.user.id),
        ("product.updated", admin.user.id),
        ("product.deleted", admin.user.id),
    ]
    assert isinstance(runtime.app.repository.get(shirt["id"]), Product)


def test_catalog_endpoints_need_authentication(client: TestClient[Any]) -> None:
    for path in ("/admin/products", "/admin/regions", "/admin/shipping-profiles"):
        response = client.get(path)
        assert (response.status_code, response.text) == (401, "Unauthorized")
