"""Who is calling: Medusa's admin-session, admin-bearer and admin-api-token, in order."""

from __future__ import annotations

from typing import Any

from litestar import Request

from domain.users import User
from service.auth.tokens import admin_user_id_from_jwt, unsign_session_id
from service.http.errors import Unauthenticated
from service.ports import ApiRuntime

SESSION_COOKIE = "connect.sid"
API_TOKEN_HEADER = "x-medusa-access-token"  # noqa: S105 - a header name


def session_id_of(request: Request[Any, Any, Any], runtime: ApiRuntime) -> str | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    return unsign_session_id(cookie, runtime.secrets.cookie_secret)


def _credentials(
    request: Request[Any, Any, Any], runtime: ApiRuntime
) -> tuple[str | None, str | None]:
    """The user id of a valid bearer JWT, and the API token, each if present."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    jwt_user_id = None
    if scheme.lower() == "bearer" and token:
        jwt_user_id = admin_user_id_from_jwt(token.strip(), runtime.secrets.jwt_secret)
    return jwt_user_id, request.headers.get(API_TOKEN_HEADER) or None


def authenticate_from_memory(
    request: Request[Any, Any, Any], runtime: ApiRuntime
) -> User | None:
    """The caller from cached lookups alone (no I/O); None means "ask the store".

    Sessions are always checked in the store, so a logout takes effect at once.
    """
    if request.cookies.get(SESSION_COOKIE):
        return None
    jwt_user_id, api_token = _credentials(request, runtime)
    if jwt_user_id is not None:
        return runtime.app.cached_user(jwt_user_id)
    return runtime.app.cached_user_by_api_token(api_token) if api_token else None


def authenticate(request: Request[Any, Any, Any], runtime: ApiRuntime) -> User:
    """The first strategy that identifies a user wins; none → 401 `Unauthorized`."""
    app = runtime.app
    session_id = session_id_of(request, runtime)
    if session_id is not None:
        user_id = runtime.sessions.user_id(session_id)
        user = app.get_user(user_id) if user_id else None
        if user is not None:
            return user
    jwt_user_id, api_token = _credentials(request, runtime)
    user = app.get_user(jwt_user_id) if jwt_user_id else None
    if user is None and api_token:
        user = app.find_user_by_api_token(api_token)
    if user is None:
        raise Unauthenticated
    return user
