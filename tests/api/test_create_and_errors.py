"""Creating jobs: validation messages, strategy preparation, Medusa's error shapes."""

from __future__ import annotations

from typing import Any

import pytest
import structlog.testing
from eventsourcing.persistence import IntegrityError
from litestar.testing import TestClient

from domain.errors import DuplicateError
from service.application import CONFLICT_RETRIES
from service.runtime import Runtime
from tests.support import Caller, ScriptedStrategy, seed_job, wait_for_status


def post_raw(client: TestClient[Any], caller: Caller, body: bytes) -> Any:
    headers = {**caller.headers, "content-type": "application/json"}
    return client.post("/admin/batch-jobs", content=body, headers=headers)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "type must be a string, context must be an object"),
        ({"type": 1, "context": {}}, "type must be a string"),
        ({"type": "product-export", "context": []}, "context must be an object"),
        ({"type": "product-export", "context": "x"}, "context must be an object"),
        (
            {"type": "product-export", "context": {}, "dry_run": "yes"},
            "dry_run must be a boolean value",
        ),
        (
            {"type": "product-export", "context": {}, "foo": 1, "bar": 2},
            "property foo should not exist, property bar should not exist",
        ),
        (
            {"foo": 1, "dry_run": 0},
            (
                "property foo should not exist, type must be a string, "
                "context must be an object, dry_run must be a boolean value"
            ),
        ),
    ],
)
def test_invalid_create_bodies_get_medusas_messages(
    client: TestClient[Any], admin: Caller, body: dict[str, Any], message: str
) -> None:
    response = client.post("/admin/batch-jobs", json=body, headers=admin.headers)

    assert response.status_code == 400
    assert response.json() == {"type": "invalid_data", "message": message}


@pytest.mark.parametrize("body", [b"{bad json", b'{"type": "x",}', b"\xff\xfe"])
def test_malformed_json_is_a_400_json_error(
    client: TestClient[Any], admin: Caller, body: bytes
) -> None:
    response = post_raw(client, admin, body)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["type"] == "invalid_data"
    assert response.json()["message"].startswith("Malformed JSON in request body")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # class-validator's answer for an array (Medusa's validator()).
        (b"[1, 2]", "an unknown value was passed to the validate function"),
        (b"[]", "an unknown value was passed to the validate function"),
        (b'"text"', "The request body must be a JSON object"),
        (b"null", "The request body must be a JSON object"),
    ],
)
def test_a_json_body_that_is_not_an_object_is_refused(
    client: TestClient[Any], admin: Caller, body: bytes, message: str
) -> None:
    response = post_raw(client, admin, body)

    assert response.status_code == 400
    assert response.json() == {"type": "invalid_data", "message": message}
    assert client.get("/admin/batch-jobs", headers=admin.headers).json()["count"] == 0


def test_an_unknown_batch_type_is_not_found(
    client: TestClient[Any], admin: Caller
) -> None:
    response = client.post(
        "/admin/batch-jobs",
        json={"type": "product-import", "context": {}},
        headers=admin.headers,
    )

    assert response.status_code == 404
    assert response.json() == {
        "type": "not_found",
        "message": "Unable to find a BatchJob strategy with the type product-import",
    }


def test_created_job_has_the_prepared_context_and_every_key_of_the_entity(
    client: TestClient[Any], admin: Caller
) -> None:
    response = client.post(
        "/admin/batch-jobs",
        json={"type": "product-export", "context": {"a": 1}, "dry_run": True},
        headers=admin.headers,
    )

    assert response.status_code == 201
    job = response.json()["batch_job"]
    got = client.get(f"/admin/batch-jobs/{job['id']}", headers=admin.headers)
    # Medusa answers with the saved entity: the keys of a GET, unset columns null
    # (the `jobstream` extension appears once a worker has taken the job).
    assert set(job) == set(got.json()["batch_job"]) - {"jobstream"}
    assert set(job) == {
        "id", "type", "created_by", "context", "result", "dry_run", "created_at",
        "updated_at", "deleted_at", "pre_processed_at", "confirmed_at",
        "processing_at", "completed_at", "canceled_at", "failed_at", "status",
    }  # fmt: skip
    stamps = ("pre_processed_at", "confirmed_at", "processing_at", "completed_at")
    assert [job[key] for key in ("result", *stamps, "canceled_at", "failed_at")] == [
        None
    ] * 7
    assert job["status"] == "created"
    assert job["context"] == {"a": 1, "prepared": True}
    assert (job["type"], job["dry_run"], job["deleted_at"]) == (
        "product-export",
        True,
        None,
    )
    assert job["created_at"].endswith("Z") and len(job["created_at"]) == 24


def test_a_missing_job_is_not_found(client: TestClient[Any], admin: Caller) -> None:
    for path in (
        "/admin/batch-jobs/batch_missing",
        "/admin/batch-jobs/batch_missing/cancel",
    ):
        method = client.get if path.endswith("missing") else client.post
        response = method(path, headers=admin.headers)

        assert response.status_code == 404
        assert response.json() == {
            "type": "not_found",
            "message": "Batch job with id batch_missing was not found",
        }


def test_confirm_is_refused_unless_pre_processed(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    job_id = seed_job(runtime, admin.user.id, completed=True)

    response = client.post(f"/admin/batch-jobs/{job_id}/confirm", headers=admin.headers)

    assert response.status_code == 400
    assert response.json() == {
        "type": "not_allowed",
        "message": "Cannot confirm processing for a batch job that is not pre processed",
    }


def test_a_write_that_keeps_losing_races_is_a_409(
    client: TestClient[Any],
    runtime: Runtime,
    admin: Caller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job_id = seed_job(runtime, admin.user.id)
    wait_for_status(client, admin, job_id, {"pre_processed"})  # the processor is done
    attempts: list[int] = []

    def always_conflicting(*_: object, **__: object) -> None:
        attempts.append(1)
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(runtime.app, "save", always_conflicting)
    response = client.post(f"/admin/batch-jobs/{job_id}/cancel", headers=admin.headers)

    assert response.status_code == 409
    assert response.json() == {
        "type": "conflict",
        "message": "The request conflicted with another request. "
        "You may retry the request with the provided Idempotency-Key.",
        "code": "invalid_state_error",
    }
    assert len(attempts) == CONFLICT_RETRIES  # re-read and re-decided, then given up


def test_an_unknown_route_is_a_json_404(client: TestClient[Any], admin: Caller) -> None:
    response = client.get("/admin/nothing-here", headers=admin.headers)

    assert response.status_code == 404
    assert response.json() == {
        "type": "not_found",
        "message": "Cannot GET /admin/nothing-here",
    }


def test_every_response_carries_a_request_id(
    client: TestClient[Any], admin: Caller
) -> None:
    generated = client.get("/admin/batch-jobs", headers=admin.headers)
    echoed = client.get(
        "/admin/batch-jobs", headers={**admin.headers, "x-request-id": "r-1"}
    )

    assert len(generated.headers["x-request-id"]) == 32
    assert echoed.headers["x-request-id"] == "r-1"


def test_request_logs_carry_the_request_and_job_ids(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    job_id = seed_job(runtime, admin.user.id)

    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        client.get(
            f"/admin/batch-jobs/{job_id}",
            headers={**admin.headers, "x-request-id": "r-9"},
        )
        client.post(
            "/admin/batch-jobs",
            json={"type": "product-export", "context": {}, "dry_run": True},
            headers={**admin.headers, "x-request-id": "r-10"},
        )

    access = [line for line in logs if line["event"] == "http.request"]
    assert [(line["request_id"], line.get("job_id")) for line in access] == [
        ("r-9", job_id),
        ("r-10", None),
    ]
    [created] = [line for line in logs if line["event"] == "batch_job.created"]
    assert created["request_id"] == "r-10"
    assert created["job_id"].startswith("batch_")


def test_a_method_the_route_lacks_is_a_404_like_express(
    client: TestClient[Any], admin: Caller
) -> None:
    response = client.put("/admin/batch-jobs", headers=admin.headers)

    assert response.status_code == 404
    assert response.json() == {
        "type": "not_found",
        "message": "Cannot PUT /admin/batch-jobs",
    }


def test_unrouted_requests_get_a_request_id_too(client: TestClient[Any]) -> None:
    echoed = client.get("/nowhere", headers={"x-request-id": "lost-1"})
    generated = client.delete("/health")

    assert (echoed.status_code, echoed.headers["x-request-id"]) == (404, "lost-1")
    assert generated.headers.get_list("x-request-id") == [
        generated.headers["x-request-id"]
    ]
    assert len(generated.headers["x-request-id"]) == 32


def test_a_duplicate_is_a_422_with_medusas_code(
    client: TestClient[Any],
    admin: Caller,
    strategy: ScriptedStrategy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def duplicate(*_: object) -> None:
        raise DuplicateError("Batch job with id batch_1 already exists.")

    monkeypatch.setattr(strategy, "prepare_batch_job_for_processing", duplicate)
    response = client.post(
        "/admin/batch-jobs",
        json={"type": "product-export", "context": {}},
        headers=admin.headers,
    )

    assert response.status_code == 422
    assert response.json() == {
        "type": "duplicate_error",
        "message": "Batch job with id batch_1 already exists.",
        "code": "invalid_request_error",
    }
