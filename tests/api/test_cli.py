"""The `jobstream` command: user creation prints the user; the user can then log in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from litestar.testing import TestClient

from service.settings import Settings


def jobstream(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "JOBSTREAM_DATA_DIR": settings.data_dir,
        "JOBSTREAM_DATABASE_URL": settings.database_url or "",
        "JOBSTREAM_LOG_FORMAT": "json",
    }
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_user_create_prints_the_user_who_can_then_log_in(
    settings: Settings, client: TestClient[Any]
) -> None:
    email = f"cli-{os.urandom(4).hex()}@example.com"
    created = jobstream(
        settings, "user", "create", "--email", email, "--password", "pw-123456",
        "--api-token", f"token-{email}", "--role", "member", "--first-name", "Ada",
    )  # fmt: skip

    assert created.returncode == 0, created.stderr
    user = json.loads(created.stdout)
    assert user["id"].startswith("usr_")
    assert (user["email"], user["role"], user["first_name"]) == (email, "member", "Ada")
    assert "password_hash" not in user
    login = client.post("/admin/auth", json={"email": email, "password": "pw-123456"})
    assert login.status_code == 200
    assert login.json()["user"]["id"] == user["id"]


def test_user_create_refuses_duplicates_and_bad_emails(settings: Settings) -> None:
    first = jobstream(
        settings, "user", "create", "-e", "dup@example.com", "-p", "x", "--id", "u1"
    )
    again = jobstream(settings, "user", "create", "-e", "DUP@example.com", "-p", "y")
    bad = jobstream(settings, "user", "create", "-e", "not-an-email", "-p", "y")

    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["id"] == "u1"
    assert again.returncode == 1
    assert json.loads(again.stdout)["type"] == "duplicate_error"
    assert bad.returncode == 1
    assert json.loads(bad.stdout) == {
        "type": "invalid_data",
        "message": "email must be an email",
    }
