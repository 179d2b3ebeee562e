"""The catalog's edges: a NUL in a body or a query, and odd list parameters, are a 400.

A product with a NUL in its title used to stop the catalog read model on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from service.http.input_checks import MAX_PAGE_NUMBER
from tests.api.catalog.support import post, product, shirt_body
from tests.support import Caller

LISTS = (
    "/admin/products", "/admin/regions", "/admin/collections", "/admin/sales-channels",
    "/admin/product-categories",
)  # fmt: skip


def product_count(client: TestClient[Any], caller: Caller) -> int:
    response = client.get("/admin/products", headers=caller.headers)
    assert response.status_code == 200, response.text
    count: int = response.json()["count"]
    return count


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"title": "Basic\u0000Shirt"}, "title"),
        (shirt_body(handle="\u0000"), "handle"),
        (shirt_body(metadata={"note": ["a", "b\u0000"]}), "metadata.note[1]"),
        (
            {**shirt_body(), "variants": [{**shirt_body()["variants"][0], "sku": "\u0000"}]},
            "variants[0].sku",
        ),
    ],
)  # fmt: skip
def test_a_product_with_a_nul_is_refused_and_the_catalog_goes_on(
    client: TestClient[Any], admin: Caller, body: dict[str, Any], where: str
) -> None:
    response = post(client, admin, "/admin/products", body)

    assert response.status_code == 400
    assert response.json() == {
        "type": "invalid_data",
        "message": f"{where} must not contain the NUL character",
    }
    assert product_count(client, admin) == 0
    product(client, admin, "Basic Shirt")
    assert product_count(client, admin) == 1
    assert client.get("/health").status_code == 200


ODD_PARAMETERS = {
    "x[¹]=1": "property x should not exist",
    "limit=1e30": f"limit must not be greater than {MAX_PAGE_NUMBER}",
    "offset=9223372036854775808": f"offset must not be greater than {MAX_PAGE_NUMBER}",
    "q=%00": "Query parameter q must not contain the NUL character",
}


@pytest.mark.parametrize("path", LISTS)
def test_every_catalog_list_refuses_odd_parameters(
    client: TestClient[Any], admin: Caller, path: str
) -> None:
    for query, message in ODD_PARAMETERS.items():
        response = client.get(f"{path}?{query}", headers=admin.headers)

        assert response.status_code == 400, query
        assert response.json() == {"type": "invalid_data", "message": message}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("q[lt]=0", "q must be a string"),
        ("title[a]=1", "title must be a string"),
        ("handle[]=x", "handle must be a string"),
        ("fields[a]=id", "fields must be a string"),
        ("expand[0][0][]=x", "expand must be a string"),
        ("order[]=title", "order must be a string"),
    ],
)
def test_product_text_parameters_must_be_strings(
    client: TestClient[Any], admin: Caller, query: str, message: str
) -> None:
    # Found by tests/api/test_query_fuzz.py: each was a 500 (`dict` has no `lower`).
    response = client.get(f"/admin/products?{query}", headers=admin.headers)

    assert response.status_code == 400
    assert response.json() == {"type": "invalid_data", "message": message}
    if query.startswith(("fields", "expand")):
        one = client.get(f"/admin/products/prod_x?{query}", headers=admin.headers)
        assert one.status_code == 400
        assert one.json() == {"type": "invalid_data", "message": message}


def test_a_null_title_on_update_is_refused_and_the_catalog_goes_on(
    client: TestClient[Any], admin: Caller
) -> None:
    # Found by fuzzing product bodies: the update was stored, then the catalog read
    # model failed on it for good (every later request waited, then answered 503).
    shirt = product(client, admin, "Basic Shirt")
    path = f"/admin/products/{shirt['id']}"

    refused = post(client, admin, path, {"title": None, "subtitle": "x"})
    renamed = post(client, admin, path, {"title": "Renamed"})

    assert refused.status_code == 400
    assert refused.json() == {
        "type": "invalid_data",
        "message": "Can't insert null value in field title on insert in table product",
    }
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["product"]["title"] == "Renamed"
    assert renamed.json()["product"]["subtitle"] is None
