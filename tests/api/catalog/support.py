"""Helpers for the catalog API tests: posting products and records as a caller."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.support import Caller


def post(
    client: TestClient[Any], caller: Caller, path: str, body: dict[str, Any]
) -> Any:
    return client.post(path, json=body, headers=caller.headers)


def created(
    client: TestClient[Any], caller: Caller, path: str, body: dict[str, Any], key: str
) -> dict[str, Any]:
    response = post(client, caller, path, body)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()[key]
    return document


def product(
    client: TestClient[Any], caller: Caller, title: str = "Basic Shirt", **extra: Any
) -> dict[str, Any]:
    return created(
        client, caller, "/admin/products", {"title": title, **extra}, "product"
    )


def shirt_body(**extra: Any) -> dict[str, Any]:
    """A product with two options and one variant priced in USD."""
    return {
        "title": "Basic Shirt",
        "options": [{"title": "Size"}, {"title": "Color"}],
        "variants": [
            {
                "title": "S / Black",
                "sku": "BASIC-SHIRT-S-BLK",
                "inventory_quantity": 10,
                "prices": [{"currency_code": "USD", "amount": 1500}],
                "options": [{"value": "S"}, {"value": "Black"}],
            }
        ],
        **extra,
    }


def region(client: TestClient[Any], caller: Caller, **extra: Any) -> dict[str, Any]:
    body = {
        "name": "Europe", "currency_code": "eur", "tax_rate": 0,
        "payment_providers": ["manual"], "fulfillment_providers": ["manual"],
        "countries": ["fr", "de"], **extra,
    }  # fmt: skip
    return created(client, caller, "/admin/regions", body, "region")


def collection(client: TestClient[Any], caller: Caller, title: str) -> dict[str, Any]:
    return created(client, caller, "/admin/collections", {"title": title}, "collection")
