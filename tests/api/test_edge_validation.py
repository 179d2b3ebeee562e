"""Bad input refused at the HTTP edge with a 400: NUL characters, huge numbers, deep JSON.

On PostgreSQL a NUL that reached an event stopped the read models for everyone;
the others answered 500. Each case runs on both backends.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from service.http.input_checks import MAX_JSON_DEPTH, MAX_PAGE_NUMBER
from tests.support import Caller


def invalid(message: str) -> dict[str, str]:
    return {"type": "invalid_data", "message": message}


def job_count(client: TestClient[Any], caller: Caller) -> int:
    response = client.get("/admin/batch-jobs", headers=caller.headers)
    assert response.status_code == 200, response.text
    count: int = response.json()["count"]
    return count


def nested(depth: int) -> bytes:
    """A context `depth` objects deep (the body itself is one more level)."""
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"type": "product-export", "context": {"a": "x\u0000y"}},
            "context.a must not contain the NUL character",
        ),
        (
            {"type": "product-export", "context": {"list": [{"b": ["ok", "\u0000"]}]}},
            "context.list[0].b[1] must not contain the NUL character",
        ),
        (
            {"type": "product-export", "context": {"a\u0000": 1}},
            "A property name in context must not contain the NUL character",
        ),
        (
            {"type": "product-\u0000export", "context": {}},
            "type must not contain the NUL character",
        ),
        (
            {"type": "product-export", "context": {}, "\u0000": 1},
            "A property name must not contain the NUL character",
        ),
    ],
)
def test_a_nul_anywhere_in_a_json_body_is_refused_and_nothing_is_written(
    client: TestClient[Any], admin: Caller, body: dict[str, Any], message: str
) -> None:
    response = client.post("/admin/batch-jobs", json=body, headers=admin.headers)

    assert response.status_code == 400
    assert response.json() == invalid(message)
    assert job_count(client, admin) == 0
    # The service goes on: a clean job is created and listed, health is fine.
    clean = {"type": "product-export", "context": {"a": "xy"}}
    created = client.post("/admin/batch-jobs", json=clean, headers=admin.headers)
    assert created.status_code == 201
    assert job_count(client, admin) == 1
    assert client.get("/health").status_code == 200


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/admin/batch-jobs?type[]=a%00b", "Query parameter type[] must not contain"),
        ("/admin/batch-jobs?fields=id%00", "Query parameter fields must not contain"),
        ("/admin/batch-jobs?a%00=1", "A query parameter name must not contain"),
        ("/admin/products?q=%00", "Query parameter q must not contain"),
        ("/admin/batch-jobs/batch_1%00", "The URL path must not contain"),
        ("/uploads/protected/a%00.csv", "The URL path must not contain"),
    ],
)
def test_a_nul_in_the_url_is_refused(
    client: TestClient[Any], admin: Caller, url: str, message: str
) -> None:
    response = client.get(url, headers=admin.headers)

    assert response.status_code == 400
    assert response.json() == invalid(f"{message} the NUL character")


def test_a_body_nested_too_deep_is_refused_and_a_deep_enough_one_is_not(
    client: TestClient[Any], admin: Caller
) -> None:
    headers = {**admin.headers, "content-type": "application/json"}
    for depth in (MAX_JSON_DEPTH, 1_000, 100_000):
        body = b'{"type":"product-export","context":' + nested(depth) + b"}"
        response = client.post("/admin/batch-jobs", content=body, headers=headers)
        assert response.status_code == 400, depth
        assert response.json() == invalid(
            f"The request body is nested more than {MAX_JSON_DEPTH} levels deep"
        )
    assert job_count(client, admin) == 0

    fits = b'{"type":"product-export","context":' + nested(MAX_JSON_DEPTH - 1) + b"}"
    created = client.post("/admin/batch-jobs", content=fits, headers=headers)
    assert created.status_code == 201, created.text
    job = client.get(
        f"/admin/batch-jobs/{created.json()['batch_job']['id']}", headers=admin.headers
    )
    assert job.status_code == 200


@pytest.mark.parametrize("path", ["/admin/batch-jobs", "/admin/products"])
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=1e30", f"limit must not be greater than {MAX_PAGE_NUMBER}"),
        ("offset=9223372036854775808", f"offset must not be greater than {MAX_PAGE_NUMBER}"),
        # Number("9" * 5000) is Infinity: class-validator's IsNumber says no.
        ("limit=" + "9" * 5000, "limit must be a number conforming to the specified constraints"),
        ("x[¹]=1", "property x should not exist"),
        ("x[" + "1" * 5000 + "]=1", "property x should not exist"),
    ],
)  # fmt: skip
def test_out_of_range_numbers_and_odd_indexes_are_a_400(
    client: TestClient[Any], admin: Caller, path: str, query: str, message: str
) -> None:
    response = client.get(f"{path}?{query}", headers=admin.headers)

    assert response.status_code == 400
    assert response.json() == invalid(message)


def test_a_superscript_index_names_a_key_not_an_array_item(
    client: TestClient[Any], admin: Caller
) -> None:
    response = client.get("/admin/batch-jobs?type[¹]=x", headers=admin.headers)

    assert response.status_code == 400
    assert response.json() == invalid("type must be an array")


def test_the_largest_page_numbers_are_accepted(
    client: TestClient[Any], admin: Caller
) -> None:
    query = f"limit={MAX_PAGE_NUMBER}&offset={MAX_PAGE_NUMBER}"
    response = client.get(f"/admin/batch-jobs?{query}", headers=admin.headers)

    assert response.status_code == 200, response.text
    assert response.json()["batch_jobs"] == []


@pytest.mark.parametrize("expires", ["²", "%C2%B2", "9" * 5000, "-1", "1e9", ""])
def test_a_malformed_expiry_in_a_signed_url_is_a_400(
    client: TestClient[Any], expires: str
) -> None:
    response = client.get(f"/uploads/protected/a.csv?expires={expires}&signature=x")

    assert response.status_code == 400
    assert response.json() == invalid(
        "expires must be a time in unix seconds (digits only)"
    )
