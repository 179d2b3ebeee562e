"""Cross-site requests: non-JSON bodies are not read, foreign origins cannot write."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.support import Caller

JOB = json.dumps({"type": "product-export", "context": {}, "dry_run": True})
EMPTY_JOB_BODY = {
    "type": "invalid_data",
    "message": "type must be a string, context must be an object",
}
FOREIGN = "https://evil.example"


def logged_in(client: TestClient[Any], caller: Caller) -> TestClient[Any]:
    response = client.post(
        "/admin/auth", json={"email": caller.email, "password": caller.password}
    )
    assert response.status_code == 200
    return client


def job_count(client: TestClient[Any], caller: Caller) -> int:
    listing = client.get("/admin/batch-jobs", headers=caller.headers)
    assert listing.status_code == 200
    count: int = listing.json()["count"]
    return count


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/vnd.api+json",
        None,
    ],
)
def test_a_body_that_is_not_json_is_read_as_empty(
    client: TestClient[Any], admin: Caller, content_type: str | None
) -> None:
    logged_in(client, admin)
    headers = {} if content_type is None else {"content-type": content_type}

    response = client.post("/admin/batch-jobs", content=JOB, headers=headers)

    assert response.status_code == 400
    assert response.json() == EMPTY_JOB_BODY
    assert job_count(client, admin) == 0


@pytest.mark.parametrize(
    "content_type", ["application/json", "Application/JSON; charset=utf-8"]
)
def test_a_json_body_is_read_whatever_the_case_and_parameters(
    client: TestClient[Any], admin: Caller, content_type: str
) -> None:
    logged_in(client, admin)

    response = client.post(
        "/admin/batch-jobs", content=JOB, headers={"content-type": content_type}
    )

    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/admin/auth", {"email": "a@b.io", "password": "x"}),
        ("POST", "/admin/auth/token", {"email": "a@b.io", "password": "x"}),
        ("POST", "/admin/products", {"title": "Shirt"}),
        ("POST", "/admin/regions", {"name": "Europe"}),
        ("POST", "/admin/collections", {"title": "Summer"}),
        ("POST", "/admin/sales-channels", {"name": "Web"}),
        ("POST", "/admin/product-categories", {"name": "Shirts"}),
        ("POST", "/admin/uploads/download-url", {"file_key": "a.csv"}),
        ("DELETE", "/admin/uploads", {"file_key": "a.csv"}),
    ],
)
def test_every_json_endpoint_validates_a_text_body_as_empty(
    client: TestClient[Any],
    admin: Caller,
    method: str,
    path: str,
    body: dict[str, Any],
) -> None:
    as_text = client.request(
        method,
        path,
        content=json.dumps(body),
        headers={**admin.headers, "content-type": "text/plain"},
    )
    empty = client.request(method, path, json={}, headers=admin.headers)

    assert empty.status_code == 400, empty.text
    assert (as_text.status_code, as_text.json()) == (400, empty.json())


def test_a_cookie_write_from_a_foreign_origin_is_refused(
    client: TestClient[Any], admin: Caller
) -> None:
    logged_in(client, admin)
    headers = {"content-type": "application/json"}

    for origin in (FOREIGN, "null", "http://localhost:7001.evil.example"):
        response = client.post(
            "/admin/batch-jobs", content=JOB, headers={**headers, "origin": origin}
        )

        assert response.status_code == 403
        assert response.json() == {
            "type": "not_allowed",
            "message": "Cookie-authenticated requests that change data are only "
            "accepted from the admin origins (JOBSTREAM_ADMIN_CORS)",
        }
    logout = client.delete("/admin/auth", headers={"origin": FOREIGN})
    assert logout.status_code == 403
    assert job_count(client, admin) == 0
    # Reads are not writes, and the session still works.
    assert (
        client.get("/admin/batch-jobs", headers={"origin": FOREIGN}).status_code == 200
    )


@pytest.mark.parametrize(
    "origin", ["http://localhost:7001", "http://testserver.local", None]
)
def test_a_cookie_write_from_an_admin_origin_or_without_origin_is_accepted(
    client: TestClient[Any], admin: Caller, origin: str | None
) -> None:
    logged_in(client, admin)
    headers = {"content-type": "application/json"}
    if origin is not None:
        headers["origin"] = origin

    response = client.post("/admin/batch-jobs", content=JOB, headers=headers)

    assert response.status_code == 201, response.text


def test_token_and_bearer_writes_ignore_the_origin(
    client: TestClient[Any], admin: Caller
) -> None:
    token = client.post(
        "/admin/auth/token", json={"email": admin.email, "password": admin.password}
    ).json()["access_token"]
    logged_in(client, admin)  # the browser's cookie rides along
    json_from_afar = {"content-type": "application/json", "origin": FOREIGN}

    with_api_token = client.post(
        "/admin/batch-jobs", content=JOB, headers={**json_from_afar, **admin.headers}
    )
    with_bearer = client.post(
        "/admin/batch-jobs",
        content=JOB,
        headers={**json_from_afar, "authorization": f"Bearer {token}"},
    )

    assert with_api_token.status_code == 201, with_api_token.text
    assert with_bearer.status_code == 201, with_bearer.text


@pytest.mark.parametrize(
    "authorization", ["Basic dXNlcjpwYXNzd29yZA==", "Negotiate YIIabc", "Bearer"]
)
def test_credentials_a_browser_attaches_by_itself_do_not_pass_the_origin_check(
    client: TestClient[Any], admin: Caller, authorization: str
) -> None:
    # Behind a proxy that asks for HTTP authentication, a browser adds `Authorization:
    # Basic` (or Negotiate) to a cross-site form post on its own, with the cookie; the
    # session still decides who calls, so the origin must still be checked. A form can
    # post a body that needs none (cancel) or a multipart upload.
    logged_in(client, admin)
    job = client.post("/admin/batch-jobs", content=JOB, headers={
        "content-type": "application/json"}).json()["batch_job"]  # fmt: skip
    from_afar = {"origin": FOREIGN, "authorization": authorization}

    cancel = client.post(f"/admin/batch-jobs/{job['id']}/cancel", headers=from_afar)
    upload = client.post(
        "/admin/uploads/protected",
        files={"files": ("a.csv", b"Product Handle\n", "text/csv")},
        headers=from_afar,
    )

    assert (cancel.status_code, upload.status_code) == (403, 403), cancel.text
    assert cancel.json()["type"] == "not_allowed"
    assert (
        client.get(f"/admin/batch-jobs/{job['id']}", headers=admin.headers).json()[
            "batch_job"
        ]["status"]
        != "canceled"
    )
