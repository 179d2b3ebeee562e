"""Admin JWTs (Medusa's `{user_id, domain: "admin"}`, 24 h) and signed session cookies."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

import jwt

JWT_LIFETIME = timedelta(hours=24)
_ALGORITHM = "HS256"


def issue_admin_jwt(user_id: str, secret: str, now: datetime | None = None) -> str:
    issued = now or datetime.now(UTC)
    claims = {
        "user_id": user_id,
        "domain": "admin",
        "iat": issued,
        "exp": issued + JWT_LIFETIME,
    }
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def admin_user_id_from_jwt(token: str, secret: str) -> str | None:
    """The user id of a valid, unexpired admin token; None for anything else."""
    try:
        # A token that never expires is refused, as is one without its issue time.
        claims = jwt.decode(
            token, secret, algorithms=[_ALGORITHM], options={"require": ["exp", "iat"]}
        )
    except jwt.PyJWTError:
        return None
    # PyJWT reads `"exp": "99999999999"` as a number; RFC 7519 and Medusa's
    # jsonwebtoken ("invalid exp value") take only JSON numbers.
    if not all(_numeric_date(claims[claim]) for claim in ("exp", "iat")):
        return None
    user_id = claims.get("user_id")
    if claims.get("domain") != "admin" or not isinstance(user_id, str):
        return None
    return user_id


def _numeric_date(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def sign_session_id(session_id: str, secret: str) -> str:
    """express-session's cookie value: `s:<id>.<base64 HMAC-SHA256>`, URL-encoded."""
    mac = hmac.new(secret.encode(), session_id.encode(), hashlib.sha256).digest()
    signature = base64.b64encode(mac).decode().rstrip("=")
    return quote(f"s:{session_id}.{signature}", safe="")


def unsign_session_id(cookie_value: str, secret: str) -> str | None:
    raw = unquote(cookie_value)
    if not raw.startswith("s:") or "." not in raw:
        return None
    session_id, _, _ = raw[2:].rpartition(".")
    expected = unquote(sign_session_id(session_id, secret))
    # Bytes: compare_digest refuses non-ASCII str, and the cookie is the caller's input.
    matches = hmac.compare_digest(expected.encode(), raw.encode())
    return session_id if matches else None
