"""/admin/auth: session login, current user, logout, and JWT tokens (Medusa 1.17+)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, Response, delete, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import RawBody

from domain.users import User
from service.auth.passwords import verify_password
from service.auth.tokens import issue_admin_jwt, sign_session_id
from service.http import openapi
from service.http.errors import Unauthenticated
from service.http.identity import SESSION_COOKIE, session_id_of
from service.http.rendering import render_user
from service.http.requests import decode_json_object, validate_credentials
from service.http.schemas import AccessTokenResponse, UserEnvelope
from service.ports import ApiRuntime


def _verified_user(body: bytes, runtime: ApiRuntime) -> User:
    credentials = validate_credentials(decode_json_object(body))
    user = runtime.app.find_user_by_email(credentials.email)
    if user is None or not verify_password(credentials.password, user.password_hash):
        raise Unauthenticated
    return user


class AuthController(Controller):
    path = "/admin/auth"
    tags = ["Auth"]

    @post(
        status_code=200,
        sync_to_thread=True,
        operation_id="PostAuth",
        operation_class=openapi.documented(body=openapi.CREDENTIALS_BODY),
        responses=openapi.errors(400, 401),
    )
    def login(
        self, body: RawBody, runtime: NamedDependency[ApiRuntime]
    ) -> Response[UserEnvelope]:
        """Log in with email and password; the `connect.sid` cookie carries the session."""
        user = _verified_user(body, runtime)
        session_id = runtime.sessions.create(user.id)
        ttl = runtime.settings.session_ttl_seconds
        cookie = Cookie(
            key=SESSION_COOKIE,
            value=sign_session_id(session_id, runtime.secrets.cookie_secret),
            path="/",
            httponly=True,
            expires=ttl,  # Litestar: seconds from now (rendered as an Expires date)
            secure=runtime.settings.secure_cookies,
            samesite="none" if runtime.settings.secure_cookies else "lax",
        )
        return Response(UserEnvelope(render_user(user)), cookies=[cookie])

    @get(sync_to_thread=True, operation_id="GetAuth", responses=openapi.errors(401))
    def current_user(self, caller: NamedDependency[User]) -> UserEnvelope:
        """The logged-in user."""
        return UserEnvelope(render_user(caller))

    @delete(
        status_code=200,
        sync_to_thread=True,
        operation_id="DeleteAuth",
        media_type=MediaType.TEXT,
        responses=openapi.errors(401),
    )
    def logout(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[ApiRuntime],
        caller: NamedDependency[User],
    ) -> Response[str]:
        """End the session (the cookie no longer authenticates)."""
        session_id = session_id_of(request, runtime)
        if session_id is not None:
            runtime.sessions.delete(session_id)
        return Response("OK", media_type=MediaType.TEXT, status_code=200)

    @post(
        "/token",
        status_code=200,
        sync_to_thread=True,
        operation_id="PostToken",
        operation_class=openapi.documented(body=openapi.CREDENTIALS_BODY),
        responses=openapi.errors(400, 401),
    )
    def token(
        self, body: RawBody, runtime: NamedDependency[ApiRuntime]
    ) -> AccessTokenResponse:
        """A bearer JWT for `Authorization: Bearer …`, valid 24 hours."""
        user = _verified_user(body, runtime)
        return AccessTokenResponse(issue_admin_jwt(user.id, runtime.secrets.jwt_secret))
