"""The create lane answers exactly as Litestar's router would, and does answer.

It answers the plain creates on both backends; on PostgreSQL, while the database
gate says the database is down, it declines, so the database-cut guard answers.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import structlog
from litestar.testing import TestClient

from domain.strategies import BatchJobDraft, prepares_without_io
from service.runtime import Runtime
from tests.support import Caller, ScriptedStrategy, logged_in

Exchange = tuple[int, Any, list[tuple[str, str]], list[dict[str, Any]], list[Any]]
VARYING = ("id", "created_at", "updated_at")  # a new job's own: compared by shape


class ComputedPrepare(ScriptedStrategy):
    """The scripted strategy, its prepare marked as doing no I/O (the lane's kind)."""

    @prepares_without_io
    def prepare_batch_job_for_processing(
        self, draft: BatchJobDraft, user_id: str
    ) -> BatchJobDraft:
        return super().prepare_batch_job_for_processing(draft, user_id)


@pytest.fixture
def strategy() -> ScriptedStrategy:
    return ComputedPrepare()


def shaped(content: bytes) -> Any:
    """The body, a new job's own values replaced by their kind."""
    try:
        body = json.loads(content)
    except ValueError:
        return content
    job = body.get("batch_job") if isinstance(body, dict) else None
    if isinstance(job, dict):
        for key in VARYING:
            job[key] = type(job[key]).__name__
    return body


def exchange(
    client: TestClient[Any],
    metrics: list[tuple[Any, ...]],
    headers: dict[str, str],
    content: bytes,
) -> Exchange:
    """Status, body (shaped), headers, access log line and metric labels of a create."""
    metrics.clear()
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        response = client.post("/admin/batch-jobs", headers=headers, content=content)
    access = [dict(line) for line in logs if line["event"] == "http.request"]
    for line in access:
        line.pop("duration_ms", None)
    created = [
        {k: v for k, v in line.items() if k not in {"job_id", "timestamp"}}
        for line in logs
        if line["event"] == "batch_job.created"
    ]
    varying = {"date", "content-length"} if response.status_code == 201 else {"date"}
    return (
        response.status_code,
        shaped(response.content),
        sorted(
            (name, value)
            for name, value in response.headers.multi_items()
            if name not in varying
        ),
        access + created,
        list(metrics),
    )


def test_every_create_answer_equals_the_routers(  # noqa: PLR0917
    client: TestClient[Any],
    router_only: TestClient[Any],
    runtime: Runtime,
    admin: Caller,
    metrics: list[tuple[Any, ...]],
    lane_answers: list[bool],
) -> None:
    token, session = logged_in(client, admin)
    router_only.cookies.clear()
    json_type = {"content-type": "application/json"}
    bearer = {"authorization": f"Bearer {token}", **json_type}
    plain = {**admin.headers, **json_type}
    valid = [
        b'{"type":"product-export","context":{},"dry_run":true}',
        b'{"type":"product-export","context":{"a":[1,"x",null]}}',
        b'{"type": "product-export", "context": {}, "dry_run": false}',
    ]
    invalid = [
        b"",
        b"{}",
        b"not json",
        b"[]",
        b'{"type":"no-such-type","context":{}}',
        b'{"type":"product-export","context":"x"}',
        b'{"type":"product-export","dry_run":"yes"}',
        b'{"type":"product-export","unknown":1}',
        b'{"type":1}',
        b'{"type": "product-export", "dry_run": false}',
    ]
    cases: list[tuple[dict[str, str], bytes]] = [
        *[(plain, body) for body in valid + invalid],
        *[(bearer, body) for body in valid[:1] + invalid[:2]],
        (admin.headers, valid[0]),  # no content type: read as {}
        ({**admin.headers, "content-type": "text/plain"}, valid[0]),
        ({**plain, "cookie": f"connect.sid={session}"}, valid[0]),
        ({"cookie": f"connect.sid={session}", **json_type}, valid[0]),
        ({**plain, "origin": "http://x.io"}, valid[0]),
        ({**plain, "traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"}, valid[0]),
        (json_type, valid[0]),
        ({"x-medusa-access-token": "unknown", **json_type}, valid[0]),
        ({"authorization": "Bearer not-a-jwt", **json_type}, valid[0]),
    ]
    answered: list[int] = []
    for number, (headers, body) in enumerate(cases):
        same_id = {**headers, "x-request-id": f"case-{number}"}
        for _ in range(2):  # the first may fill the caller caches the lane reads
            lane_answers.clear()
            through_lane = exchange(client, metrics, same_id, body)
            through_router = exchange(router_only, metrics, same_id, body)

            assert through_lane == through_router, (headers, body)
        if lane_answers == [True]:
            answered.append(number)

    # The plain valid creates by token or bearer, and nothing else.
    assert answered == [0, 1, 2, len(valid + invalid)]


def test_a_job_the_lane_created_is_stored_prepared_and_read_back(
    client: TestClient[Any],
    runtime: Runtime,
    admin: Caller,
    lane_answers: list[bool],
) -> None:
    body = {"type": "product-export", "context": {"x": 1}, "dry_run": True}
    client.get("/admin/auth", headers=admin.headers)  # the caller, now in memory
    lane_answers.clear()

    created = client.post("/admin/batch-jobs", headers=admin.headers, json=body)

    assert created.status_code == 201
    assert lane_answers == [True]
    job = created.json()["batch_job"]
    assert job["context"] == {"x": 1, "prepared": True}  # the strategy's prepare
    assert job["created_by"] == admin.user.id
    stored = runtime.app.get_batch_job(job["id"])
    assert stored.context == {"x": 1, "prepared": True}
    read = client.get(f"/admin/batch-jobs/{job['id']}", headers=admin.headers)
    assert read.status_code == 200  # the caller's next read shows its write
    assert read.json()["batch_job"]["id"] == job["id"]


def test_a_failed_save_is_answered_as_the_app_answers_it(  # noqa: PLR0917
    client: TestClient[Any],
    router_only: TestClient[Any],
    runtime: Runtime,
    admin: Caller,
    monkeypatch: pytest.MonkeyPatch,
    lane_answers: list[bool],
) -> None:
    def refuse(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the store refused the write")

    monkeypatch.setattr(runtime.app, "create_batch_job_async", refuse)
    monkeypatch.setattr(runtime.app, "_create_batch_job", refuse)
    body = b'{"type":"product-export","context":{}}'
    headers = {**admin.headers, "content-type": "application/json"}
    client.get("/admin/auth", headers=admin.headers)  # the caller, now in memory
    lane_answers.clear()

    through_lane = client.post("/admin/batch-jobs", headers=headers, content=body)
    through_router = router_only.post(
        "/admin/batch-jobs", headers=headers, content=body
    )

    assert through_lane.status_code == through_router.status_code == 500
    assert through_lane.json() == through_router.json()
    assert lane_answers == [True]
