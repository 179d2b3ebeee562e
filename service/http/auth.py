"""/admin/auth: session login, current user, logout, and JWT tokens (Medusa 1.17+)."""

from __future__ import annotations

import math
from typing import Any

import anyio.to_thread
import msgspec
import structlog
from litestar import Controller, MediaType, Request, Response, delete, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import JSONBody

from domain.users import User
from service.api_services.auth import AuthService
from service.auth.hash_pool import HashPoolBusyError
from service.auth.login_limits import LoginThrottledError
from service.auth.tokens import issue_admin_jwt, sign_session_id
from service.http import openapi
from service.http.errors import Unauthenticated
from service.http.identity import SESSION_COOKIE, session_id_of
from service.http.medusa_body import MedusaBody, MedusaBodyDTO
from service.http.rendering import render_user
from service.http.requests import validate_credentials
from service.http.schemas import (
    AccessTokenResponse,
    CredentialsRequest,
    ErrorResponse,
    UserEnvelope,
)

log = structlog.get_logger("http")


# A request without a JSON body decodes as `{}` (MedusaBody.empty).
EMPTY_CREDENTIALS = MedusaBody.empty(CredentialsRequest)


async def _verified_user(
    request: Request[Any, Any, Any],
    data: MedusaBody[CredentialsRequest],
    auth: AuthService,
) -> User:
    credentials = data.decode(validate_credentials)
    user = await auth.verify_login(
        credentials.email, credentials.password, _address(request)
    )
    if user is None:
        raise Unauthenticated
    return user


def _address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client is not None else "unknown"


def _too_many_failures(
    request: Request[Any, Any, Any], exc: LoginThrottledError
) -> Response[bytes]:
    seconds = max(1, math.ceil(exc.retry_after))
    log.warning("auth.login_throttled", address=_address(request), retry_after=seconds)
    message = f"Too many failed login attempts. Retry after {seconds} seconds."
    return _error(429, ErrorResponse(type="not_allowed", message=message), seconds)


def _too_many_at_once(
    _: Request[Any, Any, Any], __: HashPoolBusyError
) -> Response[bytes]:
    log.warning("auth.login_busy")
    message = "Too many logins are being checked at once. Retry the request."
    return _error(503, ErrorResponse(type="unexpected_state", message=message), 1)


def _error(status: int, body: ErrorResponse, retry_after: int) -> Response[bytes]:
    return Response(
        msgspec.json.encode(body),
        status_code=status,
        media_type=MediaType.JSON,
        headers={"retry-after": str(retry_after)},
    )


class AuthController(Controller):
    path = "/admin/auth"
    tags = ["Auth"]
    exception_handlers = {
        LoginThrottledError: _too_many_failures,
        HashPoolBusyError: _too_many_at_once,
    }

    # Async: the password check runs on the logins' own threads (LoginGuard), never on
    # the request threads every other endpoint needs.
    @post(
        status_code=200,
        operation_id="PostAuth",
        dto=MedusaBodyDTO,
        responses=openapi.errors(400, 401, 429, 503),
    )
    async def login(
        self,
        request: Request[Any, Any, Any],
        *,
        data: JSONBody[MedusaBody[CredentialsRequest]] = EMPTY_CREDENTIALS,
        auth: NamedDependency[AuthService],
    ) -> Response[UserEnvelope]:
        """Log in with email and password; the `connect.sid` cookie carries the session."""
        user = await _verified_user(request, data, auth)
        session_id = await anyio.to_thread.run_sync(auth.create_session, user.id)
        ttl = auth.session_ttl_seconds
        cookie = Cookie(
            key=SESSION_COOKIE,
            value=sign_session_id(session_id, auth.secrets.cookie_secret),
            path="/",
            httponly=True,
            expires=ttl,  # Litestar: seconds from now (rendered as an Expires date)
            secure=auth.secure_cookies,
            samesite="none" if auth.secure_cookies else "lax",
        )
        return Response(UserEnvelope(render_user(user)), cookies=[cookie])

    @get(
        sync_to_thread=True,
        operation_id="GetAuth",
        security=openapi.LOGGED_IN,
        responses=openapi.errors(401),
    )
    def current_user(self, caller: NamedDependency[User]) -> UserEnvelope:
        """The logged-in user."""
        return UserEnvelope(render_user(caller))

    @delete(
        status_code=200,
        sync_to_thread=True,
        operation_id="DeleteAuth",
        security=openapi.LOGGED_IN,
        media_type=MediaType.TEXT,
        responses=openapi.errors(401),
    )
    def logout(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[AuthService],
        caller: NamedDependency[User],
    ) -> Response[str]:
        """End the session (the cookie no longer authenticates)."""
        session_id = session_id_of(request, auth)
        if session_id is not None:
            auth.delete_session(session_id)
        return Response("OK", media_type=MediaType.TEXT, status_code=200)

    @post(
        "/token",
        status_code=200,
        operation_id="PostToken",
        dto=MedusaBodyDTO,
        responses=openapi.errors(400, 401, 429, 503),
    )
    async def token(
        self,
        request: Request[Any, Any, Any],
        *,
        data: JSONBody[MedusaBody[CredentialsRequest]] = EMPTY_CREDENTIALS,
        auth: NamedDependency[AuthService],
    ) -> AccessTokenResponse:
        """A bearer JWT for `Authorization: Bearer …`, valid 24 hours."""
        user = await _verified_user(request, data, auth)
        return AccessTokenResponse(issue_admin_jwt(user.id, auth.secrets.jwt_secret))
