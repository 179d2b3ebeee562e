"""GET /health and the OpenAPI schema."""

from __future__ import annotations

import time
from typing import Any

import pytest
from litestar.testing import TestClient

from service.http.app import admin_cors
from service.runtime import Runtime
from tests.support import Caller, seed_job, wait_for_status


def test_health_is_ok_when_everything_is_up(client: TestClient[Any]) -> None:
    response = client.get("/health")

    assert (response.status_code, response.text) == (200, "OK")


def test_health_is_503_when_a_dependency_is_down(
    client: TestClient[Any], runtime: Runtime
) -> None:
    runtime.projection.stop()
    runtime.sessions.close()

    response = client.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["projection.batchjobs"] == "stopped"
    assert body["checks"]["sessions"] == "down"
    assert body["checks"]["event_store"] == "ok"


def test_openapi_documents_every_endpoint_and_parameter(
    client: TestClient[Any],
) -> None:
    schema = client.get("/schema/openapi.json").json()

    paths = schema["paths"]
    assert set(paths) >= {
        "/admin/batch-jobs", "/admin/batch-jobs/{job_id}",
        "/admin/batch-jobs/{job_id}/confirm", "/admin/batch-jobs/{job_id}/cancel",
        "/admin/auth", "/admin/auth/token", "/health",
    }  # fmt: skip
    listing = paths["/admin/batch-jobs"]["get"]
    documented = {parameter["name"] for parameter in listing["parameters"]}
    assert documented >= {
        "limit", "offset", "order", "fields", "expand", "id[]", "type[]",
        "created_at", "completed_at",
    }  # fmt: skip
    create = paths["/admin/batch-jobs"]["post"]
    reference = create["requestBody"]["content"]["application/json"]["schema"]
    body = schema["components"]["schemas"][reference["$ref"].rsplit("/", 1)[1]]
    assert sorted(body["required"]) == ["context", "type"]
    assert "201" in create["responses"]
    assert {"get", "post", "delete"} <= set(paths["/admin/auth"])


def test_openapi_documents_medusas_error_responses(client: TestClient[Any]) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]

    cancel = paths["/admin/batch-jobs/{job_id}/cancel"]["post"]["responses"]
    assert set(cancel) >= {"200", "400", "401", "404", "409"}
    unauthorized = cancel["401"]["content"]
    assert list(unauthorized) == ["text/plain"]
    error = cancel["404"]["content"]["application/json"]["schema"]
    assert error["$ref"].endswith("/ErrorResponse")
    assert list(paths["/health"]["get"]["responses"]["200"]["content"]) == [
        "text/plain"
    ]
    assert "503" in paths["/health"]["get"]["responses"]


def test_admin_ui_origins_get_cors_with_credentials(client: TestClient[Any]) -> None:
    preflight = client.options(
        "/admin/batch-jobs",
        headers={
            "Origin": "http://localhost:7001",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-medusa-access-token",
        },
    )
    stranger = client.get("/health", headers={"Origin": "https://evil.example"})

    assert preflight.status_code in {200, 204}
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:7001"
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert "access-control-allow-origin" not in stranger.headers


def test_cors_origins_may_be_patterns() -> None:
    config = admin_cors("https://admin.shop.io, /https://.*\\.preview\\.shop\\.io/")

    assert config.allow_origins == ["https://admin.shop.io"]
    assert config.is_origin_allowed("https://pr-12.preview.shop.io")
    assert not config.is_origin_allowed("https://other.io")


def test_a_failing_read_model_shows_in_health_and_loses_nothing(
    client: TestClient[Any],
    runtime: Runtime,
    admin: Caller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(runtime.view, "apply_events", broken)
    job_id = seed_job(runtime, admin.user.id, settle=False)
    deadline = time.monotonic() + 10
    while runtime.projection.last_error is None and time.monotonic() < deadline:
        time.sleep(0.02)

    unhealthy = client.get("/health")
    assert unhealthy.status_code == 503
    assert unhealthy.json()["checks"]["projection.batchjobs"] == "failing"

    monkeypatch.undo()  # the disk is back; the runner retries the same events
    runtime.projection.wake()
    job = wait_for_status(client, admin, job_id, {"pre_processed"})
    assert job["id"] == job_id
    assert client.get("/health").status_code == 200


def test_health_details_report_the_head_and_the_projections_lag(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    job_id = seed_job(runtime, admin.user.id)
    wait_for_status(client, admin, job_id, {"pre_processed"})  # the processor is done
    runtime.catch_up_read_model()

    response = client.get("/health/details")

    assert response.status_code == 200
    details = response.json()
    assert details["status"] == "ok", details
    assert details["event_store_head"] >= 1
    assert details["projection_position"] == details["event_store_head"]
    assert details["projection_lag"] == 0
    assert details["checks"]["projection.catalog"] == "ok"
    assert (
        details["catalog_lag"]
        == details["event_store_head"] - details["catalog_position"]
    )
    assert "nats" not in details  # no NATS configured
