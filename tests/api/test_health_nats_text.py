"""`/health` answers anyone: an unreachable NATS is "down" (503), with no error text.

The NATS probe's OSError ("[Errno 111] Connection refused", or a host name that does not
resolve) goes to the log; the issue named this entry explicitly (issue 11, section 3).
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
import structlog
from litestar.testing import TestClient

from service.runtime import Runtime
from tests.api.catalog import conftest as catalog_fixtures

# A fresh PostgreSQL database per run: the relay's tracking table is created here.
settings = catalog_fixtures.settings


def test_health_details_show_only_the_state_of_an_unreachable_nats(
    client: TestClient[Any], runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The runtime as an API process with NATS configured but not answering (port 1).
    unreachable = msgspec.structs.replace(
        runtime.settings, nats_url="nats://127.0.0.1:1"
    )
    monkeypatch.setattr(runtime, "settings", unreachable)

    with structlog.testing.capture_logs() as logs:
        details = client.get("/health/details")
        health = client.get("/health")

    # Jobs and files need the broker: its outage is an outage (issue 14, item 4).
    assert details.status_code == 503, details.text
    assert details.json()["nats"] == "down"
    assert details.json()["checks"]["nats"] == "down"
    assert health.status_code == 503
    assert health.json()["checks"]["nats"] == "down"
    assert "Errno" not in health.text
    assert "Errno" not in details.text
    assert "refused" not in details.text.lower()
    logged = [entry for entry in logs if entry["event"] == "health.unavailable"]
    assert logged
    assert "Errno" in logged[0]["checks"]["nats"]
