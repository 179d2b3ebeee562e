"""Medusa's three admin authentication methods, logout, and the 401 body."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.support import Caller


def login(client: TestClient[Any], caller: Caller) -> Any:
    return client.post(
        "/admin/auth", json={"email": caller.email, "password": caller.password}
    )


def test_unauthenticated_requests_get_plain_text_unauthorized(
    client: TestClient[Any], admin: Caller
) -> None:
    for response in (
        client.get("/admin/batch-jobs"),
        client.post("/admin/batch-jobs", json={"type": "x", "context": {}}),
        client.get("/admin/auth"),
        client.get("/admin/batch-jobs", headers={"x-medusa-access-token": "wrong"}),
        client.get("/admin/batch-jobs", headers={"Authorization": "Bearer not-a-jwt"}),
    ):
        assert response.status_code == 401
        assert response.text == "Unauthorized"
        assert response.headers["content-type"].startswith("text/plain")
        assert "www-authenticate" not in response.headers


def test_api_token_header(client: TestClient[Any], admin: Caller) -> None:
    response = client.get("/admin/auth", headers={"x-medusa-access-token": admin.token})

    assert response.status_code == 200
    assert response.json()["user"]["id"] == admin.user.id


def test_session_cookie_login_and_logout(
    client: TestClient[Any], admin: Caller
) -> None:
    response = login(client, admin)

    assert response.status_code == 200
    user = response.json()["user"]
    assert (user["id"], user["email"], user["role"]) == (
        admin.user.id,
        admin.email,
        "admin",
    )
    assert "password_hash" not in user
    assert client.cookies["connect.sid"].startswith("s%3A")
    assert client.get("/admin/batch-jobs").status_code == 200
    assert client.get("/admin/auth").json()["user"]["id"] == admin.user.id

    logout = client.delete("/admin/auth")

    assert (logout.status_code, logout.text) == (200, "OK")
    assert client.get("/admin/batch-jobs").status_code == 401


def test_a_tampered_session_cookie_is_refused(
    client: TestClient[Any], admin: Caller
) -> None:
    login(client, admin)
    cookie = client.cookies["connect.sid"]
    client.cookies.clear()
    client.cookies["connect.sid"] = cookie[:-3] + "AAA"

    assert client.get("/admin/batch-jobs").status_code == 401


def test_bearer_token(client: TestClient[Any], admin: Caller) -> None:
    response = client.post(
        "/admin/auth/token", json={"email": admin.email, "password": admin.password}
    )

    assert response.status_code == 200
    token = response.json()["access_token"]
    assert set(response.json()) == {"access_token"}
    me = client.get("/admin/auth", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["user"]["id"] == admin.user.id


@pytest.mark.parametrize("path", ["/admin/auth", "/admin/auth/token"])
def test_wrong_credentials_are_unauthorized(
    client: TestClient[Any], admin: Caller, path: str
) -> None:
    wrong_password = client.post(path, json={"email": admin.email, "password": "nope"})
    unknown_user = client.post(path, json={"email": "who@x.io", "password": "nope"})

    for response in (wrong_password, unknown_user):
        assert (response.status_code, response.text) == (401, "Unauthorized")


def test_login_bodies_are_validated(client: TestClient[Any], admin: Caller) -> None:
    response = client.post("/admin/auth", json={"email": "not-an-email", "password": 5})

    assert response.status_code == 400
    assert response.json() == {
        "type": "invalid_data",
        "message": "email must be an email, password must be a string",
    }


def test_email_lookup_ignores_case(client: TestClient[Any], admin: Caller) -> None:
    response = client.post(
        "/admin/auth", json={"email": admin.email.upper(), "password": admin.password}
    )

    assert response.status_code == 200


def test_the_session_cookie_lasts_the_configured_ttl(
    client: TestClient[Any], admin: Caller
) -> None:
    response = login(client, admin)

    header = response.headers["set-cookie"]
    expires = header.split("expires=")[1].split(";")[0]
    moment = parsedate_to_datetime(expires)
    hours = (moment - datetime.now(UTC)).total_seconds() / 3600
    assert 9.9 < hours <= 10.0
    assert "HttpOnly" in header and "Path=/" in header
