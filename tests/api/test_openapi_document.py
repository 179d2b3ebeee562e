"""/schema/openapi.json: valid OpenAPI, every operation described, logins declared.

The real answers of the catalog are checked against it in
tests/api/catalog/test_openapi_shapes.py.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient
from openapi_spec_validator import validate

from service.http.catalog import bodies, product_bodies
from service.http.identity import API_TOKEN_HEADER, SESSION_COOKIE
from service.http.medusa_body import field_names
from service.http.schemas import CreateBatchJobRequest
from tests.support import Caller

PLACEHOLDER = {"type": "string"}
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def document(client: TestClient[Any]) -> dict[str, Any]:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)  # raises OpenAPIValidationError with the first problem

    assert document["openapi"].startswith("3.1")


def test_every_operation_has_an_id_and_a_description(
    document: dict[str, Any],
) -> None:
    every = operations(document)
    ids = [operation.get("operationId") for _, _, operation in every]

    assert len(every) >= 37
    assert None not in ids
    assert len(set(ids)) == len(ids)
    undescribed = [
        f"{method} {path}"
        for method, path, operation in every
        if len(operation.get("description", "").strip()) < 10
    ]
    assert undescribed == []


def test_no_json_body_is_documented_as_a_bare_string(
    document: dict[str, Any],
) -> None:
    placeholders: list[str] = []
    for method, path, operation in operations(document):
        contents = [
            (f"{status} response", response.get("content", {}))
            for status, response in operation["responses"].items()
        ]
        contents.append(
            ("request", operation.get("requestBody", {}).get("content", {}))
        )
        placeholders.extend(
            f"{method} {path} {where}"
            for where, content in contents
            if content.get("application/json", {}).get("schema") == PLACEHOLDER
        )

    assert placeholders == []


def test_every_catalog_write_documents_its_body_and_every_list_its_query(
    document: dict[str, Any],
) -> None:
    catalog = [
        (method, path, operation)
        for method, path, operation in operations(document)
        if "Products" in operation["tags"] or path.startswith(
            ("/admin/regions", "/admin/collections", "/admin/sales-channels",
             "/admin/product-categories")
        )
    ]  # fmt: skip
    writes = [op for method, _, op in catalog if method == "post"]
    lists = [op for method, path, op in catalog if method == "get" and "{" not in path]

    assert len(writes) == 6
    assert all("$ref" in json_schema(op["requestBody"]) for op in writes)
    assert len(lists) == 5
    assert all(
        {"limit", "offset"} <= {p["name"] for p in op["parameters"]} for op in lists
    )
    path_parameters = [
        (path, p)
        for _, path, op in catalog
        for p in op.get("parameters", [])
        if p["in"] == "path"
    ]
    assert all(p["required"] for _, p in path_parameters)
    assert {
        name for path, _ in path_parameters for name in re.findall(r"{(\w+)}", path)
    } == {p["name"] for _, p in path_parameters}


def json_schema(part: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = part["content"]["application/json"]["schema"]
    return schema


def component(document: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    name = reference["$ref"].removeprefix("#/components/schemas/")
    found: dict[str, Any] = document["components"]["schemas"][name]
    return found


def test_request_schemas_are_the_structs_the_handlers_decode(
    document: dict[str, Any],
) -> None:
    paths = document["paths"]
    create = json_schema(paths["/admin/products"]["post"]["requestBody"])
    update = json_schema(paths["/admin/products/{product_id}"]["post"]["requestBody"])
    job = json_schema(paths["/admin/batch-jobs"]["post"]["requestBody"])

    assert create["$ref"].endswith("/CreateProductRequest")
    assert update["$ref"].endswith("/UpdateProductRequest")
    created = component(document, create)
    # The document, the Struct and the Medusa checks name the same fields, in order.
    assert tuple(created["properties"]) == field_names(bodies.CreateProductRequest)
    assert tuple(created["properties"]) == product_bodies.CREATE_FIELDS
    assert created["required"] == ["title"]
    assert tuple(component(document, update)["properties"]) == (
        product_bodies.UPDATE_FIELDS
    )
    assert tuple(component(document, job)["properties"]) == field_names(
        CreateBatchJobRequest
    )
    assert component(document, job)["required"] == ["context", "type"]


def test_the_three_logins_are_declared_as_identity_accepts_them(
    document: dict[str, Any], client: TestClient[Any], admin: Caller
) -> None:
    schemes = document["components"]["securitySchemes"]

    assert schemes["session"] == {
        "type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
        "description": schemes["session"]["description"],
    }  # fmt: skip
    assert (schemes["jwt"]["type"], schemes["jwt"]["scheme"]) == ("http", "bearer")
    assert (schemes["api_token"]["in"], schemes["api_token"]["name"]) == (
        "header",
        API_TOKEN_HEADER,
    )
    # Each one logs in.
    credentials = {"email": admin.email, "password": admin.password}
    token = client.post("/admin/auth/token", json=credentials).json()["access_token"]
    jwt = client.get("/admin/auth", headers={"authorization": f"Bearer {token}"})
    api_token = client.get("/admin/auth", headers={API_TOKEN_HEADER: admin.token})
    assert client.post("/admin/auth", json=credentials).status_code == 200
    session = client.get("/admin/auth")  # the cookie the login set
    assert [r.status_code for r in (session, jwt, api_token)] == [200, 200, 200]


def test_exactly_the_operations_that_need_a_login_declare_one(
    document: dict[str, Any], client: TestClient[Any]
) -> None:
    """Called with no credentials: 401 where security is declared, never elsewhere."""
    client.cookies.clear()
    expected: list[dict[str, list[str]]] = [
        {"session": []},
        {"jwt": []},
        {"api_token": []},
    ]
    wrong = []
    for method, path, operation in operations(document):
        url = re.sub(r"{\w+}", "x", path)
        response = client.request(method.upper(), url, json={})
        declared = operation.get("security")
        if (response.status_code == 401) != (declared is not None):
            wrong.append(f"{method} {path}: {response.status_code}, {declared}")
        elif declared is not None and declared != expected:
            wrong.append(f"{method} {path}: {declared}")

    assert wrong == []
    secured = [op for _, _, op in operations(document) if "security" in op]
    assert len(secured) >= 30
