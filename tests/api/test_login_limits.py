"""Logins: the same time for known and unknown emails, 429 after too many failures."""

from __future__ import annotations

import statistics
import time
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from service.auth.login_limits import LoginLimiter
from service.runtime import Runtime
from service.settings import Settings
from tests.support import Caller

PATHS = ["/admin/auth", "/admin/auth/token"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(
        settings,
        login_failures_per_account=3,
        login_failures_per_address=5,
        login_failure_window_seconds=600,
    )


def attempt(client: TestClient[Any], email: str, password: str, path: str) -> Any:
    return client.post(path, json={"email": email, "password": password})


def assert_throttled(response: Any) -> None:
    assert response.status_code == 429, response.text
    seconds = int(response.headers["retry-after"])
    assert 0 < seconds <= 600
    assert response.json() == {
        "type": "not_allowed",
        "message": f"Too many failed login attempts. Retry after {seconds} seconds.",
    }


@pytest.mark.parametrize("path", PATHS)
def test_an_account_is_throttled_after_its_failures(
    client: TestClient[Any], admin: Caller, member: Caller, path: str
) -> None:
    for _ in range(3):
        assert attempt(client, admin.email, "wrong", path).status_code == 401

    assert_throttled(attempt(client, admin.email, admin.password, path))
    assert_throttled(attempt(client, admin.email.upper(), "wrong", path))
    # Another account from the same address still logs in (4 of its 5 used).
    assert attempt(client, member.email, member.password, path).status_code == 200


def test_an_unknown_email_is_throttled_like_a_known_one(
    client: TestClient[Any],
) -> None:
    for _ in range(3):
        assert attempt(client, "nobody@x.io", "wrong", PATHS[0]).status_code == 401

    assert_throttled(attempt(client, "nobody@x.io", "wrong", PATHS[0]))


def test_a_success_resets_the_accounts_failures(
    client: TestClient[Any], admin: Caller
) -> None:
    for _ in range(2):
        assert attempt(client, admin.email, "wrong", PATHS[0]).status_code == 401
    assert attempt(client, admin.email, admin.password, PATHS[0]).status_code == 200

    for _ in range(2):  # 4 failures in all, but only 2 since the success
        assert attempt(client, admin.email, "wrong", PATHS[1]).status_code == 401
    assert attempt(client, admin.email, admin.password, PATHS[1]).status_code == 200


def test_an_address_is_throttled_across_accounts(client: TestClient[Any]) -> None:
    for number in range(5):
        response = attempt(client, f"guess{number}@x.io", "wrong", PATHS[number % 2])
        assert response.status_code == 401

    assert_throttled(attempt(client, "guess9@x.io", "wrong", PATHS[0]))
    assert_throttled(attempt(client, "guess9@x.io", "wrong", PATHS[1]))


def test_a_bad_body_is_not_a_failed_login(
    client: TestClient[Any], admin: Caller
) -> None:
    for _ in range(6):
        response = client.post(PATHS[0], json={"email": admin.email})
        assert response.status_code == 400

    assert attempt(client, admin.email, admin.password, PATHS[0]).status_code == 200


def test_a_wrong_password_takes_as_long_for_an_unknown_email(
    client: TestClient[Any], admin: Caller, runtime: Runtime
) -> None:
    runtime.logins.limiter = LoginLimiter(0, 0, window_seconds=1)  # no limits here

    def seconds(email: str) -> float:
        started = time.perf_counter()
        response = attempt(client, email, "wrong-password", PATHS[0])
        assert response.status_code == 401
        return time.perf_counter() - started

    known, unknown = [], []
    for number in range(7):  # interleaved, so a busy moment hits both alike
        known.append(seconds(admin.email))
        unknown.append(seconds(f"nobody{number}@medusa.js"))

    known_median, unknown_median = statistics.median(known), statistics.median(unknown)
    assert known_median > 0.01  # a real hash ran
    assert abs(known_median - unknown_median) < 0.35 * known_median, (known, unknown)
