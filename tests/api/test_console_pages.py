"""The console's pages behind the login, their security headers, and their static files."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from litestar.testing import TestClient

from domain.users import UserRole
from service.console.assets import ASSETS
from service.runtime import Runtime
from tests.support import Caller, new_user

PAGES = ["/app", "/app/jobs/batch_01ABC", "/app/import", "/app/export", "/app/system"]


class _Links(HTMLParser):
    """Every src/href of a page, and whether it has inline script or style."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._tag = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag = tag
        values = dict(attrs)
        self.urls += [v for k, v in attrs if k in {"src", "href"} and v]
        if tag == "style" or any(k == "style" or k.startswith("on") for k in values):
            self.inline.append(tag)

    def handle_data(self, data: str) -> None:
        if self._tag == "script" and data.strip():
            self.inline.append("script")


def log_in(client: TestClient[Any], caller: Caller) -> None:
    body = {"email": caller.email, "password": caller.password}
    assert client.post("/admin/auth", json=body).status_code == 200


@pytest.mark.parametrize("path", PAGES)
def test_an_unauthenticated_visit_is_sent_to_the_login_page(
    client: TestClient[Any], path: str
) -> None:
    response = client.get(path, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"].startswith("/app/login?next=%2Fapp")
    assert client.get(response.headers["location"]).status_code == 200


def test_the_login_page_keeps_the_query_of_the_page_asked_for(
    client: TestClient[Any],
) -> None:
    response = client.get("/app?status=failed", follow_redirects=False)

    assert response.headers["location"] == "/app/login?next=%2Fapp%3Fstatus%3Dfailed"


def test_the_login_page_is_a_form_with_labelled_fields(
    client: TestClient[Any],
) -> None:
    page = client.get("/app/login")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<label for="email">' in page.text
    assert '<label for="password">' in page.text
    assert 'data-page="login"' in page.text


@pytest.mark.parametrize("path", PAGES)
def test_a_logged_in_user_gets_each_page_with_a_strict_policy(
    client: TestClient[Any], admin: Caller, path: str
) -> None:
    log_in(client, admin)

    page = client.get(path, follow_redirects=False)

    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    assert page.headers["cache-control"] == "no-store"
    assert admin.email in page.text
    links = _Links()
    links.feed(page.text)
    assert links.inline == []
    # Every asset from the service itself: the console works offline.
    assert all(url.startswith(("/", "#")) for url in links.urls), links.urls


def test_an_api_token_or_bearer_also_opens_the_pages(
    client: TestClient[Any], admin: Caller
) -> None:
    page = client.get("/app", headers=admin.headers, follow_redirects=False)

    assert page.status_code == 200


def test_a_logged_out_session_is_sent_back_to_the_login_page(
    client: TestClient[Any], admin: Caller
) -> None:
    log_in(client, admin)
    assert client.delete("/admin/auth").status_code == 200

    response = client.get("/app", follow_redirects=False)

    assert response.status_code == 303


def test_the_job_id_in_the_path_is_escaped_into_the_page(
    client: TestClient[Any], admin: Caller
) -> None:
    log_in(client, admin)

    page = client.get('/app/jobs/x"><img src=x onerror=alert(1)>')

    assert page.status_code == 200
    assert "<img src=x" not in page.text
    assert 'data-job-id="x&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"' in page.text
    assert "<code>x&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</code>" in page.text


def test_only_admins_see_the_system_link_and_the_creator_filter(
    runtime: Runtime, client: TestClient[Any], admin: Caller
) -> None:
    member = new_user(runtime, "member-user", UserRole.MEMBER)
    log_in(client, member)
    members_page = client.get("/app").text
    log_in(client, admin)
    admins_page = client.get("/app").text

    assert 'href="/app/system"' not in members_page
    assert 'name="created_by"' not in members_page
    assert 'href="/app/system"' in admins_page
    assert 'name="created_by"' in admins_page


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("console.js", "text/javascript"),
        ("console.css", "text/css"),
        ("favicon.svg", "image/svg+xml"),
    ],
)
def test_static_files_are_served_with_long_caching_and_revalidation(
    client: TestClient[Any], name: str, media_type: str
) -> None:
    response = client.get(f"/app/static/{name}?v={ASSETS.version}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert "max-age=31536000" in response.headers["cache-control"]
    assert response.content == ASSETS.by_name[name].body
    again = client.get(
        f"/app/static/{name}", headers={"if-none-match": response.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


def test_pages_link_the_current_version_of_the_static_files(
    client: TestClient[Any],
) -> None:
    page = client.get("/app/login").text

    assert f"/app/static/console.js?v={ASSETS.version}" in page
    assert f"/app/static/console.css?v={ASSETS.version}" in page


def test_an_unknown_static_file_is_a_medusa_shaped_404(
    client: TestClient[Any],
) -> None:
    response = client.get("/app/static/nothing.js")

    assert response.status_code == 404
    assert response.json()["type"] == "not_found"
