"""The hot-read lane answers exactly as Litestar's router would, and does answer.

On both backends: embedded with the handler's sync reads, on PostgreSQL with the
view's awaitable reads (tests/api/test_hot_reads_postgres.py: when it declines).
"""

from __future__ import annotations

from typing import Any

import structlog
from litestar.testing import TestClient

from service.runtime import Runtime
from tests.support import Caller, lane_ready, logged_in, seed_job, wait_for_status

Exchange = tuple[int, bytes, list[tuple[str, str]], list[dict[str, Any]], list[Any]]


def exchange(
    client: TestClient[Any],
    metrics: list[tuple[Any, ...]],
    method: str,
    path: str,
    headers: dict[str, str],
) -> Exchange:
    """Status, body, headers, access log line (less its duration) and metric labels."""
    metrics.clear()
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        response = client.request(method, path, headers=headers)
    access = [dict(line) for line in logs if line["event"] == "http.request"]
    for line in access:
        line.pop("duration_ms", None)
    return (
        response.status_code,
        response.content,
        sorted(response.headers.multi_items()),
        access,
        list(metrics),
    )


def test_every_answer_equals_the_routers(  # noqa: PLR0917
    client: TestClient[Any],
    router_only: TestClient[Any],
    runtime: Runtime,
    admin: Caller,
    member: Caller,
    metrics: list[tuple[Any, ...]],
    handler_reads: list[str],
) -> None:
    own = seed_job(runtime, admin.user.id)
    seed_job(runtime, admin.user.id, completed=True)
    other = seed_job(runtime, member.user.id)
    # Pre-processed, the jobs wait for a confirm: nothing more is written meanwhile.
    wait_for_status(client, admin, own, {"pre_processed"})
    wait_for_status(client, member, other, {"pre_processed"})
    token, session = logged_in(client, admin)
    bearer = {"authorization": f"Bearer {token}"}
    # Whole documents, valid: the plain lists, which the lane answers.
    plain_lists = [
        "",
        "?limit=10&offset=0",
        "?limit=1&offset=1",
        "?offset=5",
        "?order=created_at",
        "?order=-updated_at",
        "?created_at[gte]=2020-01-01T00:00:00Z",
        f"?created_at[lt]={2**31}",
        "?type[]=product-export",
        f"?id[]={own}",
        "?completed_at=null",
        "?limit=10&",
    ]
    lists = [
        *plain_lists,
        "?fields=id,type",
        "?fields=+result,-context",
        "?expand=created_by_user",
        f"?id={own}",
        "?limit=abc",
        "?unknown=1",
        "?fields=nope",
        "?order=-",
    ]
    cases: list[tuple[str, str, dict[str, str]]] = [
        ("GET", f"/admin/batch-jobs/{own}", admin.headers),
        ("GET", f"/admin/batch-jobs/{own}", bearer),
        *[("GET", f"/admin/batch-jobs{query}", admin.headers) for query in lists],
        *[("GET", f"/admin/batch-jobs{query}", bearer) for query in lists[:4]],
        ("GET", f"/admin/batch-jobs/{other}", admin.headers),
        ("GET", "/admin/batch-jobs/no-such-job", admin.headers),
        ("GET", f"/admin/batch-jobs/{own}", {}),
        ("GET", "/admin/batch-jobs", {}),
        ("GET", f"/admin/batch-jobs/{own}", {"x-medusa-access-token": "unknown"}),
        ("GET", "/admin/batch-jobs", {"authorization": "Bearer not-a-jwt"}),
        ("GET", f"/admin/batch-jobs/{own}", {"cookie": f"connect.sid={session}"}),
        ("GET", "/admin/batch-jobs", {"cookie": f"connect.sid={session}"}),
        ("GET", f"/admin/batch-jobs/{own}", {**admin.headers, "cookie": "a=b"}),
        ("GET", f"/admin/batch-jobs/{own}", {**admin.headers, "origin": "http://x.io"}),
        ("GET", "/admin/batch-jobs", {**admin.headers, "origin": "http://x.io"}),
        ("GET", f"/admin/batch-jobs/{own}?fields=id", admin.headers),
        ("GET", f"/admin/batch-jobs/{own}/", admin.headers),
        ("GET", "/admin/batch-jobs/", admin.headers),
        ("GET", f"/admin/batch-jobs/{own}/events", admin.headers),
        ("HEAD", f"/admin/batch-jobs/{own}", admin.headers),
        ("OPTIONS", "/admin/batch-jobs", {**admin.headers, "origin": "http://x.io"}),
        ("GET", f"/admin/batch-jobs/{own}", {**admin.headers, "content-length": "0"}),
    ]
    lane_ready(runtime, admin)
    answered_by_lane: dict[int, int] = {}  # case number: the lane's status
    for number, (method, path, headers) in enumerate(cases):
        same_id = {**headers, "x-request-id": f"case-{number}"}
        for _ in range(2):  # the first may fill the caller caches the lane reads
            handler_reads.clear()
            through_lane = exchange(client, metrics, method, path, same_id)
            lane_reads = len(handler_reads)
            through_router = exchange(router_only, metrics, method, path, same_id)

            assert through_lane == through_router, (method, path, headers)
        if lane_reads == 0 < len(handler_reads):  # the router's handler read it
            answered_by_lane[number] = through_lane[0]

    # The plain reads, on either backend: the lane answered them, and only with
    # a success (it never answers an error).
    plain = {
        number
        for number, (method, path, headers) in enumerate(cases)
        if method == "GET"
        and headers in (admin.headers, bearer)
        and (
            path == f"/admin/batch-jobs/{own}"
            or path.removeprefix("/admin/batch-jobs") in plain_lists
        )
    }
    assert len(plain) == 2 + len(plain_lists) + 4
    assert plain <= set(answered_by_lane), [
        cases[n][1] for n in plain - set(answered_by_lane)
    ]
    assert set(answered_by_lane.values()) == {200}


def test_the_lane_answers_plain_reads_without_the_handlers(
    client: TestClient[Any],
    runtime: Runtime,
    admin: Caller,
    member: Caller,
    handler_reads: list[str],
) -> None:
    own = seed_job(runtime, admin.user.id)
    other = seed_job(runtime, member.user.id)
    # Pre-processed, the jobs wait for a confirm: nothing more is written meanwhile.
    wait_for_status(client, admin, own, {"pre_processed"})
    wait_for_status(client, member, other, {"pre_processed"})
    lane_ready(runtime, admin)
    handler_reads.clear()

    got = client.get(f"/admin/batch-jobs/{own}", headers=admin.headers)
    listed = client.get("/admin/batch-jobs?limit=10&offset=0", headers=admin.headers)

    assert got.status_code == 200
    assert got.json()["batch_job"]["id"] == own
    assert listed.status_code == 200
    assert [job["id"] for job in listed.json()["batch_jobs"]] == [own]
    assert handler_reads == []  # on PostgreSQL too: the lane awaited the view

    not_owner = client.get(f"/admin/batch-jobs/{other}", headers=admin.headers)
    bad_query = client.get("/admin/batch-jobs?limit=abc", headers=admin.headers)

    assert (not_owner.status_code, bad_query.status_code) == (400, 400)
    assert len(handler_reads) == 1  # 400 on the query: before the read
