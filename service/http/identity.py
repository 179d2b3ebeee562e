"""Who is calling: Medusa's admin-session, admin-bearer and admin-api-token, in order."""

from __future__ import annotations

from typing import Any

from litestar import Request

from domain.users import User
from service.api_services.auth import AuthService
from service.auth.tokens import admin_user_id_from_jwt, unsign_session_id
from service.http.errors import Unauthenticated

SESSION_COOKIE = "connect.sid"
API_TOKEN_HEADER = "x-medusa-access-token"  # noqa: S105 - a header name


def session_id_of(request: Request[Any, Any, Any], auth: AuthService) -> str | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    return unsign_session_id(cookie, auth.secrets.cookie_secret)


def _credentials(
    request: Request[Any, Any, Any], auth: AuthService
) -> tuple[str | None, str | None]:
    """The user id of a valid bearer JWT, and the API token, each if present."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    jwt_user_id = None
    if scheme.lower() == "bearer" and token:
        jwt_user_id = admin_user_id_from_jwt(token.strip(), auth.secrets.jwt_secret)
    return jwt_user_id, request.headers.get(API_TOKEN_HEADER) or None


def authenticate_from_memory(
    request: Request[Any, Any, Any], auth: AuthService
) -> User | None:
    """The caller from cached lookups alone (no I/O); None means "ask the store".

    Sessions are always checked in the store, so a logout takes effect at once.
    """
    if request.cookies.get(SESSION_COOKIE):
        return None
    jwt_user_id, api_token = _credentials(request, auth)
    if jwt_user_id is not None:
        return auth.cached_user(jwt_user_id)
    return auth.cached_user_by_api_token(api_token) if api_token else None


def authenticate(request: Request[Any, Any, Any], auth: AuthService) -> User:
    """The first strategy that identifies a user wins; none → 401 `Unauthorized`."""
    session_id = session_id_of(request, auth)
    if session_id is not None:
        user_id = auth.session_user_id(session_id)
        user = auth.get_user(user_id) if user_id else None
        if user is not None:
            return user
    jwt_user_id, api_token = _credentials(request, auth)
    user = auth.get_user(jwt_user_id) if jwt_user_id else None
    if user is None and api_token:
        user = auth.find_user_by_api_token(api_token)
    if user is None:
        raise Unauthenticated
    return user
