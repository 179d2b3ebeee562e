"""/app: the console's pages (a login wall in front of each) and its static files."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import anyio.to_thread
from litestar import Controller, MediaType, Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect

from domain.users import User
from service.api_services.auth import AuthService
from service.console import pages
from service.console.assets import ASSETS
from service.http.errors import Unauthenticated
from service.http.identity import authenticate, authenticate_from_memory

# Pages load nothing but their own origin's files: no inline script or style, no
# framing, no plug-ins; fetch and the live feed go to the same origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "cache-control": "no-store",  # a page names its user
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
ASSET_CACHE = "public, max-age=31536000, immutable"  # the URL carries the version


async def _viewer(request: Request[Any, Any, Any], auth: AuthService) -> User | None:
    user = authenticate_from_memory(request, auth)
    if user is not None:
        return user
    try:
        return await anyio.to_thread.run_sync(authenticate, request, auth)
    except Unauthenticated:
        return None


def _html(body: str) -> Response[str]:
    return Response(body, media_type=MediaType.HTML, headers=PAGE_HEADERS)


def _to_login(request: Request[Any, Any, Any]) -> Redirect:
    target = request.url.path
    if request.url.query:
        target += f"?{request.url.query}"
    return Redirect(f"/app/login?next={quote(target, safe='')}", status_code=303)


async def _page(
    request: Request[Any, Any, Any],
    auth: AuthService,
    page: pages.Page,
    **values: str,
) -> Response[str] | Redirect:
    user = await _viewer(request, auth)
    if user is None:
        return _to_login(request)
    return _html(pages.render(page, user, **values))


class ConsoleController(Controller):
    path = "/app"
    include_in_schema = False

    @get("/login")
    async def login(self) -> Response[str]:
        return _html(pages.render(pages.LOGIN, None))

    @get("/")
    async def jobs(
        self, request: Request[Any, Any, Any], auth: NamedDependency[AuthService]
    ) -> Response[str] | Redirect:
        return await _page(request, auth, pages.JOBS)

    @get("/jobs/{job_id:str}")
    async def job(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[AuthService],
        job_id: FromPath[str],
    ) -> Response[str] | Redirect:
        return await _page(request, auth, pages.JOB, job_id=job_id)

    @get("/import")
    async def product_import(
        self, request: Request[Any, Any, Any], auth: NamedDependency[AuthService]
    ) -> Response[str] | Redirect:
        return await _page(request, auth, pages.IMPORT)

    @get("/export")
    async def product_export(
        self, request: Request[Any, Any, Any], auth: NamedDependency[AuthService]
    ) -> Response[str] | Redirect:
        return await _page(request, auth, pages.EXPORT)

    @get("/system")
    async def system(
        self, request: Request[Any, Any, Any], auth: NamedDependency[AuthService]
    ) -> Response[str] | Redirect:
        return await _page(request, auth, pages.SYSTEM)

    @get("/static/{name:str}")
    async def asset(
        self, request: Request[Any, Any, Any], name: FromPath[str]
    ) -> Response[bytes]:
        """A static file, from memory; anyone may fetch it (the login page needs it)."""
        asset = ASSETS.by_name.get(name)
        if asset is None:
            raise NotFoundException(f"No console file {name}")
        headers = {
            "cache-control": ASSET_CACHE,
            "etag": asset.etag,
            "x-content-type-options": "nosniff",
        }
        if request.headers.get("if-none-match") == asset.etag:
            return Response(b"", status_code=304, headers=headers)
        return Response(asset.body, media_type=asset.media_type, headers=headers)
