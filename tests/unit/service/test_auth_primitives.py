"""Passwords, admin JWTs and signed session cookies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from service.auth.passwords import hash_password, verify_password
from service.auth.tokens import (
    admin_user_id_from_jwt,
    issue_admin_jwt,
    sign_session_id,
    unsign_session_id,
)

SECRET = "a-jwt-secret-that-is-32-bytes-long"


def test_a_password_verifies_against_its_hash_only() -> None:
    stored = hash_password("secret_password")

    assert stored.startswith("scrypt$")
    assert "secret_password" not in stored
    assert verify_password("secret_password", stored)
    assert not verify_password("Secret_password", stored)
    assert not verify_password("secret_password", "garbage")
    assert hash_password("secret_password") != stored  # salted


def test_an_admin_jwt_names_its_user_for_24_hours() -> None:
    issued = datetime.now(UTC)
    token = issue_admin_jwt("usr_1", SECRET, now=issued)

    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert (claims["user_id"], claims["domain"]) == ("usr_1", "admin")
    assert claims["exp"] - claims["iat"] == 24 * 3600
    assert admin_user_id_from_jwt(token, SECRET) == "usr_1"


def test_bad_jwts_identify_nobody() -> None:
    expired = issue_admin_jwt(
        "usr_1", SECRET, now=datetime.now(UTC) - timedelta(days=2)
    )
    store_token = jwt.encode({"user_id": "usr_1", "domain": "store"}, SECRET)
    unsigned = jwt.encode(
        {"user_id": "usr_1", "domain": "admin"}, None, algorithm="none"
    )

    assert admin_user_id_from_jwt(expired, SECRET) is None
    assert (
        admin_user_id_from_jwt(
            issue_admin_jwt("usr_1", "another-secret-that-is-32-bytes-long"), SECRET
        )
        is None
    )
    assert admin_user_id_from_jwt(store_token, SECRET) is None
    assert admin_user_id_from_jwt(unsigned, SECRET) is None
    assert admin_user_id_from_jwt("not.a.jwt", SECRET) is None


def test_session_cookies_are_signed_like_express_session() -> None:
    cookie = sign_session_id("abc123", "cookie-secret")

    assert cookie.startswith("s%3Aabc123.")
    assert unsign_session_id(cookie, "cookie-secret") == "abc123"
    assert unsign_session_id(cookie, "other-secret") is None
    assert (
        unsign_session_id(cookie.replace("abc123", "abc124"), "cookie-secret") is None
    )
    assert unsign_session_id("abc123", "cookie-secret") is None
    assert (
        unsign_session_id(cookie[:-2] + "%C3%A9", "cookie-secret") is None
    )  # non-ASCII
    assert unsign_session_id("s%3A%E2%82%AC.%E2%82%AC", "cookie-secret") is None
