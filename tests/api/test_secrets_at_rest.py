"""Secrets at rest and in the open: file modes, JWT claims, health text, schema pages."""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import msgspec
import pytest
import structlog
from litestar.testing import TestClient

from service.bootstrap.secrets import resolve_secrets
from service.http.app import create_app
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.registry import StrategyRegistry
from tests.support import Caller, ScriptedStrategy, new_user, seed_job


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask of a usual login shell (022): what the service must not rely on."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def modes_under(root: Path) -> dict[str, int]:
    paths = [root, *root.rglob("*")]
    return {str(p.relative_to(root)): stat.S_IMODE(p.lstat().st_mode) for p in paths}


@pytest.mark.usefixtures("usual_umask")
def test_the_data_dir_and_every_file_in_it_are_private(
    settings: Settings, tmp_path: Path
) -> None:
    data = tmp_path / "var"
    settings = msgspec.structs.replace(settings, data_dir=str(data))
    if not settings.is_postgres:  # embedded: secrets.json is generated
        settings = msgspec.structs.replace(
            settings, jwt_secret=None, cookie_secret=None
        )
    runtime = Runtime(settings, registry=StrategyRegistry([ScriptedStrategy()]))
    with TestClient(app=create_app(runtime)) as client:
        admin = new_user(runtime)
        login = {"email": admin.email, "password": admin.password}
        assert client.post("/admin/auth", json=login).status_code == 200
        uploaded = client.post(
            "/admin/uploads/protected",
            files=[("files", ("a.csv", b"Product Handle\nx\n", "text/csv"))],
            headers=admin.headers,
        )
        assert uploaded.status_code == 200, uploaded.text

    modes = modes_under(data)
    if not settings.is_postgres:
        assert {"events.sqlite", "sessions.sqlite", "secrets.json"} <= set(modes)
    assert any(name.endswith(".csv") for name in modes)
    for name, mode in modes.items():
        is_dir = (data / name).is_dir()
        assert mode == (0o700 if is_dir else 0o600), (name, oct(mode))


@pytest.mark.usefixtures("usual_umask")
def test_an_older_data_dir_and_secrets_file_are_tightened(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    secrets_file = data / "secrets.json"
    secrets_file.write_text('{"jwt_secret": "kept-jwt-secret-of-at-least-32-bytes"}')
    secrets_file.chmod(0o644)

    resolved = resolve_secrets(Settings(data_dir=str(data)))

    assert resolved.jwt_secret == "kept-jwt-secret-of-at-least-32-bytes"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600


def bearer(claims: dict[str, Any], settings: Settings) -> dict[str, str]:
    assert settings.jwt_secret is not None
    token = jwt.encode(claims, settings.jwt_secret, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


def test_bearer_tokens_without_exp_or_iat_are_refused(
    client: TestClient[Any], admin: Caller, settings: Settings
) -> None:
    now = datetime.now(UTC)
    claims = {"user_id": admin.user.id, "domain": "admin"}
    expiring = {"exp": now + timedelta(hours=1)}
    issued = {"iat": now}

    complete = client.get(
        "/admin/auth", headers=bearer(claims | issued | expiring, settings)
    )
    forever = client.get("/admin/auth", headers=bearer(claims | issued, settings))
    undated = client.get("/admin/auth", headers=bearer(claims | expiring, settings))

    assert complete.status_code == 200
    assert (forever.status_code, forever.text) == (401, "Unauthorized")
    assert (undated.status_code, undated.text) == (401, "Unauthorized")


@pytest.mark.parametrize("claim", ["exp", "iat"])
def test_bearer_token_dates_must_be_numbers(
    client: TestClient[Any], admin: Caller, settings: Settings, claim: str
) -> None:
    # PyJWT takes `"exp": "<digits>"` as a number; Medusa's jsonwebtoken does not.
    now = int(datetime.now(UTC).timestamp())
    claims: dict[str, Any] = {"user_id": admin.user.id, "domain": "admin",
                              "iat": now, "exp": now + 3600}  # fmt: skip
    claims[claim] = str(claims[claim])

    response = client.get("/admin/auth", headers=bearer(claims, settings))

    assert (response.status_code, response.text) == (401, "Unauthorized")


SECRET_DETAIL = "connection to 10.9.8.7:5432 failed for user shop_owner@mail.io"


def test_health_shows_states_and_logs_the_error_text(
    client: TestClient[Any],
    runtime: Runtime,
    admin: Caller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unreachable(*_: object) -> None:
        raise OSError(SECRET_DETAIL)

    monkeypatch.setattr(runtime.sessions, "ping", unreachable)
    monkeypatch.setattr(runtime.view, "apply_events", unreachable)
    seed_job(runtime, admin.user.id, settle=False)
    deadline = time.monotonic() + 10
    while runtime.projection.last_error is None and time.monotonic() < deadline:
        time.sleep(0.02)

    with structlog.testing.capture_logs() as logs:
        health = client.get("/health")
        details = client.get("/health/details")

    for response in (health, details):
        assert response.status_code == 503
        assert "10.9.8.7" not in response.text
        assert "shop_owner" not in response.text
        checks = response.json()["checks"]
        assert checks["sessions"] == "down"
        assert checks["projection.batchjobs"] == "failing"
        assert checks["event_store"] == "ok"
    logged = [entry for entry in logs if entry["event"] == "health.unavailable"]
    assert logged
    assert SECRET_DETAIL in logged[0]["checks"]["sessions"]


SCHEMA_PAGES = [
    "/schema", "/schema/openapi.json", "/schema/openapi.yaml", "/schema/swagger",
    "/schema/redoc", "/schema/rapidoc", "/schema/elements", "/schema/scalar",
    "/schema/oauth2-redirect.html",
]  # fmt: skip
EXTERNAL_URL = re.compile(
    r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE
)
CDN_HOSTS = re.compile(r"cdn\.|unpkg\.com|jsdelivr|fonts\.googleapis", re.IGNORECASE)


def test_no_served_page_loads_anything_from_another_host(
    client: TestClient[Any],
) -> None:
    paths = {
        route.path
        for route in client.app.routes
        if "{" not in route.path and "GET" in getattr(route, "methods", ())
    }
    served = {}
    for path in sorted(paths | set(SCHEMA_PAGES)):
        response = client.get(path)
        if response.status_code == 200:
            served[path] = response.text

    assert {"/schema/openapi.json", "/schema/openapi.yaml"} <= set(served)
    for path, text in served.items():
        assert not EXTERNAL_URL.search(text), path
        assert not CDN_HOSTS.search(text), path
    for viewer in ("/schema/swagger", "/schema/redoc", "/schema/elements"):
        assert viewer not in served
