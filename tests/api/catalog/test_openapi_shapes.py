"""The catalog's real answers match the response schemas /schema/openapi.json gives."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from litestar.testing import TestClient

from tests.api.catalog.support import collection, created, post, region, shirt_body
from tests.support import Caller


@pytest.fixture
def document(client: TestClient[Any]) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/schema/openapi.json").json()
    return body


def problems(
    document: dict[str, Any], method: str, path: str, response: Any
) -> list[str]:
    """How the answer departs from the operation's documented 200 (none: it matches)."""
    assert response.status_code == 200, response.text
    operation = document["paths"][path][method]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": document["components"]})
    return [
        f"{method} {path}: {'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(response.json())
    ]


def test_catalog_answers_match_their_documented_schemas(
    client: TestClient[Any], admin: Caller, document: dict[str, Any]
) -> None:
    headers = admin.headers
    europe = region(client, admin)
    summer = collection(client, admin, "Summer")
    channel = created(
        client, admin, "/admin/sales-channels", {"name": "Web"}, "sales_channel"
    )
    parent = created(
        client, admin, "/admin/product-categories", {"name": "Tops"}, "product_category"
    )
    created(
        client, admin, "/admin/product-categories",
        {"name": "Shirts", "parent_category_id": parent["id"]}, "product_category",
    )  # fmt: skip
    shirt = post(
        client, admin, "/admin/products",
        shirt_body(
            collection_id=summer["id"], tags=[{"value": "cotton"}],
            type={"value": "apparel"}, categories=[{"id": parent["id"]}],
            sales_channels=[{"id": channel["id"]}], images=["https://x.io/a.png"],
            weight=200, metadata={"season": "summer"},
        ),
    )  # fmt: skip
    product_id = shirt.json()["product"]["id"]
    profile_id = shirt.json()["product"]["profile_id"]
    answers = [
        ("post", "/admin/products", shirt),
        ("get", "/admin/products", client.get("/admin/products", headers=headers)),
        (
            "get", "/admin/products",
            client.get("/admin/products?fields=title&expand=variants", headers=headers),
        ),
        (
            "get", "/admin/products/{product_id}",
            client.get(f"/admin/products/{product_id}", headers=headers),
        ),
        (
            "post", "/admin/products/{product_id}",
            client.post(
                f"/admin/products/{product_id}", json={"subtitle": "Soft"},
                headers=headers,
            ),
        ),
        ("get", "/admin/regions", client.get("/admin/regions", headers=headers)),
        (
            "get", "/admin/regions/{region_id}",
            client.get(f"/admin/regions/{europe['id']}", headers=headers),
        ),
        ("get", "/admin/collections", client.get("/admin/collections", headers=headers)),
        (
            "get", "/admin/collections/{collection_id}",
            client.get(f"/admin/collections/{summer['id']}", headers=headers),
        ),
        (
            "get", "/admin/sales-channels",
            client.get("/admin/sales-channels", headers=headers),
        ),
        (
            "get", "/admin/sales-channels/{channel_id}",
            client.get(f"/admin/sales-channels/{channel['id']}", headers=headers),
        ),
        (
            "get", "/admin/product-categories",
            client.get(
                "/admin/product-categories?include_descendants_tree=true",
                headers=headers,
            ),
        ),
        (
            "get", "/admin/product-categories/{category_id}",
            client.get(f"/admin/product-categories/{parent['id']}", headers=headers),
        ),
        (
            "get", "/admin/shipping-profiles",
            client.get("/admin/shipping-profiles", headers=headers),
        ),
        (
            "get", "/admin/shipping-profiles/{profile_id}",
            client.get(f"/admin/shipping-profiles/{profile_id}", headers=headers),
        ),
        (
            "delete", "/admin/products/{product_id}",
            client.delete(f"/admin/products/{product_id}", headers=headers),
        ),
    ]  # fmt: skip

    found = [
        p for method, path, r in answers for p in problems(document, method, path, r)
    ]

    assert found == []
    listed = answers[1][2].json()["products"][0]
    assert listed["variants"][0]["prices"][0]["amount"] == 1500  # what was checked


def test_a_wrong_answer_would_be_caught(
    client: TestClient[Any], admin: Caller, document: dict[str, Any]
) -> None:
    """The check is not vacuous: a product with a string for its variants fails it."""
    real = client.get("/admin/products", headers=admin.headers)

    class Bent:
        status_code = 200
        text = ""

        @staticmethod
        def json() -> dict[str, Any]:
            return {**real.json(), "products": [{"id": "p", "variants": "none"}]}

    found = problems(document, "get", "/admin/products", Bent())

    assert len(found) == 1
    assert "products/0/variants" in found[0]
