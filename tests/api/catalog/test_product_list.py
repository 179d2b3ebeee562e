"""GET /admin/products: filters, pagination, order, `fields`, `expand`, messages."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from tests.api.catalog.support import collection, post, product, shirt_body
from tests.support import Caller


def listed(client: TestClient[Any], caller: Caller, query: str = "") -> dict[str, Any]:
    response = client.get(f"/admin/products?{query}", headers=caller.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def titles(body: dict[str, Any]) -> list[str]:
    return [p["title"] for p in body["products"]]


def test_products_are_listed_newest_first_with_medusas_envelope(
    client: TestClient[Any], admin: Caller
) -> None:
    for title in ("One", "Two", "Three"):
        product(client, admin, title)

    body = listed(client, admin)

    assert titles(body) == ["Three", "Two", "One"]
    assert (body["count"], body["offset"], body["limit"]) == (3, 0, 50)
    assert body["products"][0]["variants"] == []
    assert "profile" in body["products"][0]


def test_limit_offset_and_order_page_through_products(
    client: TestClient[Any], admin: Caller
) -> None:
    for title in ("b", "c", "a", "d"):
        product(client, admin, title)

    first = listed(client, admin, "order=title&limit=2")
    second = listed(client, admin, "order=title&limit=2&offset=2")
    everything = listed(client, admin, "limit=0")

    assert (titles(first), titles(second)) == (["a", "b"], ["c", "d"])
    assert first["count"] == second["count"] == 4
    assert (len(everything["products"]), everything["limit"]) == (4, 0)
    assert titles(listed(client, admin, "order=-title&limit=1")) == ["d"]


def test_filters_by_id_handle_collection_status_and_free_text(
    client: TestClient[Any], admin: Caller
) -> None:
    summer = collection(client, admin, "Summer Sale")
    body = shirt_body(collection_id=summer["id"], status="published")
    shirt = post(client, admin, "/admin/products", body).json()["product"]
    plain = product(client, admin, "Plain Tee", description="A plain tee")
    other = product(client, admin, "Hoodie 100%_x")

    assert titles(listed(client, admin, f"id[]={shirt['id']},{plain['id']}&order=title")) == [
        "Basic Shirt", "Plain Tee"
    ]  # fmt: skip
    assert titles(listed(client, admin, f"id={other['id']}")) == ["Hoodie 100%_x"]
    assert titles(listed(client, admin, "handle=plain-tee")) == ["Plain Tee"]
    assert titles(listed(client, admin, f"collection_id[]={summer['id']}")) == [
        "Basic Shirt"
    ]
    assert titles(listed(client, admin, "status[]=published")) == ["Basic Shirt"]
    assert titles(listed(client, admin, "status=draft&order=title")) == [
        "Hoodie 100%_x",
        "Plain Tee",
    ]
    assert titles(listed(client, admin, "q=shirt-s-blk")) == ["Basic Shirt"]  # by SKU
    assert titles(listed(client, admin, "q=summer")) == ["Basic Shirt"]  # by collection
    assert titles(listed(client, admin, "q=PLAIN")) == ["Plain Tee"]
    assert titles(listed(client, admin, "q=0%25_")) == [
        "Hoodie 100%_x"
    ]  # wildcards literal
    assert titles(listed(client, admin, "q=0%25a")) == []
    assert titles(listed(client, admin, "title=Plain")) == []  # exact


def test_fields_and_expand_shape_the_products(
    client: TestClient[Any], admin: Caller
) -> None:
    post(client, admin, "/admin/products", shirt_body())

    selected = listed(client, admin, "fields=title,handle")["products"][0]
    only_variants = listed(client, admin, "expand=variants&fields=id")["products"][0]
    priced = listed(client, admin, "expand=variants,variants.prices")["products"][0]
    bare = listed(client, admin, "expand=")["products"][0]
    retrieved = client.get(
        f"/admin/products/{selected['id']}?expand=variants&fields=title",
        headers=admin.headers,
    ).json()["product"]

    assert set(selected) == {
        "id", "created_at", "title", "handle", "categories", "collection", "images",
        "options", "profiles", "profile", "profile_id", "sales_channels", "tags", "type",
        "variants",
    }  # fmt: skip
    assert set(only_variants) == {"id", "created_at", "variants"}
    assert "prices" not in only_variants["variants"][0]
    assert "options" not in only_variants["variants"][0]
    assert "calculated_price" in priced["variants"][0]
    assert "prices" in priced["variants"][0]
    assert "profile" not in priced
    assert "variants" not in bare and "title" in bare
    assert set(retrieved) == {"id", "title", "variants"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("collection_id=pcol_1", "collection_id must be an array"),
        ("tags=x", "tags must be an array"),
        ("status[]=bogus", ("each value in status must be one of the following values: "
                            "draft, proposed, published, rejected")),
        ("limit=abc", "limit must be a number conforming to the specified constraints"),
        ("foo=bar", "property foo should not exist"),
        ("created_at[gt]=notadate", "gt must be a Date instance"),
        ("order=bogus", "Order field bogus is not valid"),
        ("expand=bogus", "Requested fields [bogus] are not valid"),
        ("fields=bogus", "Requested fields [bogus] are not valid"),
    ],
)  # fmt: skip
def test_invalid_list_queries_get_400s(
    client: TestClient[Any], admin: Caller, query: str, message: str
) -> None:
    response = client.get(f"/admin/products?{query}", headers=admin.headers)

    assert response.status_code == 400
    assert response.json() == {"type": "invalid_data", "message": message}


def test_a_retrieve_accepts_only_expand_and_fields(
    client: TestClient[Any], admin: Caller
) -> None:
    shirt = product(client, admin)

    response = client.get(
        f"/admin/products/{shirt['id']}?limit=1", headers=admin.headers
    )

    assert response.status_code == 400
    assert response.json()["message"] == "property limit should not exist"


def test_deleted_products_leave_the_list(
    client: TestClient[Any], admin: Caller
) -> None:
    keep, drop = product(client, admin, "Keep"), product(client, admin, "Drop")
    client.delete(f"/admin/products/{drop['id']}", headers=admin.headers)

    body = listed(client, admin)

    assert ([p["id"] for p in body["products"]], body["count"]) == ([keep["id"]], 1)
