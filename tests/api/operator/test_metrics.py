"""GET /metrics: who may scrape it, and that jobs, steps and requests move its figures."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from domain.users import UserRole
from service.http.app import create_app
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.registry import StrategyRegistry
from tests.api.operator.metrics_text import parse, scrape, total, value
from tests.conftest import make_settings
from tests.integration.conftest import free_port
from tests.support import Caller, ScriptedStrategy, new_user, wait_for_status


@pytest.fixture
def processing() -> bool:
    """A worker runs the jobs: their steps, counts and heartbeats are what is read."""
    return True


TOKEN = "scrape-token-0123456789abcdef"


def run_job(client: TestClient[Any], caller: Caller, context: dict[str, Any]) -> str:
    response = client.post(
        "/admin/batch-jobs",
        json={"type": "product-export", "context": context, "dry_run": False},
        headers=caller.headers,
    )
    assert response.status_code == 201, response.text
    job_id: str = response.json()["batch_job"]["id"]
    wait_for_status(client, caller, job_id)
    return job_id


def test_metrics_need_an_admin_login(
    client: TestClient[Any], admin: Caller, member: Caller
) -> None:
    assert client.get("/metrics").status_code == 401

    refused = client.get("/metrics", headers=member.headers)
    assert refused.status_code == 403
    assert refused.json() == {
        "type": "not_allowed",
        "message": "Only admins may see metrics.",
    }

    allowed = client.get("/metrics", headers=admin.headers)
    assert allowed.status_code == 200
    assert allowed.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE jobstream_jobs gauge" in allowed.text


def test_the_metrics_token_opens_metrics_without_a_login(settings: Settings) -> None:
    with_token = msgspec.structs.replace(settings, metrics_token=TOKEN)
    runtime = Runtime(with_token, registry=StrategyRegistry([ScriptedStrategy()]))
    with TestClient(app=create_app(runtime)) as client:
        admin = new_user(runtime, "admin_user")
        member = new_user(runtime, "member", UserRole.MEMBER)

        bearer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert bearer.status_code == 200
        assert "# TYPE jobstream_jobs gauge" in bearer.text

        wrong = client.get("/metrics", headers={"Authorization": "Bearer " + "x" * 28})
        assert wrong.status_code == 401
        assert client.get("/metrics").status_code == 401
        # Logins work beside the token, as without it: admins only.
        assert client.get("/metrics", headers=admin.headers).status_code == 200
        assert client.get("/metrics", headers=member.headers).status_code == 403


def test_a_finished_job_moves_the_job_counters_and_the_status_gauge(
    client: TestClient[Any], admin: Caller
) -> None:
    before = scrape(client, admin)

    run_job(client, admin, {"pages": 2})
    run_job(client, admin, {"fail": "boom", "fail_times": 1})

    after = scrape(client, admin)
    created = "jobstream_jobs_created_total"
    finished = "jobstream_jobs_finished_total"
    assert (
        value(after, created, type="product-export")
        - value(before, created, type="product-export")
        == 2
    )
    for status in ("completed", "failed"):
        labels = {"type": "product-export", "status": status}
        assert value(after, finished, **labels) - value(before, finished, **labels) == 1
    # PostgreSQL's test database is the session's: other tests' jobs count too.
    for status, more in (("completed", 1), ("failed", 1), ("processing", 0)):
        now, then = (value(s, "jobstream_jobs", status=status) for s in (after, before))
        assert now - then == more


def test_steps_are_timed_by_type_and_step(
    client: TestClient[Any], admin: Caller
) -> None:
    name = "jobstream_step_duration_seconds_count"
    before = scrape(client, admin)

    run_job(client, admin, {"pages": 1, "sleep": 0.05})

    after = scrape(client, admin)
    for step in ("pre_process", "process"):
        labels = {"type": "product-export", "step": step}
        assert value(after, name, **labels) - value(before, name, **labels) == 1
    process_sum = "jobstream_step_duration_seconds_sum"
    labels = {"type": "product-export", "step": "process"}
    assert (
        value(after, process_sum, **labels) - value(before, process_sum, **labels)
        >= 0.05
    )


def test_http_requests_are_counted_by_route_template_and_status(
    client: TestClient[Any], admin: Caller
) -> None:
    name = "jobstream_http_request_duration_seconds_count"
    route = "/admin/batch-jobs/{job_id}"
    before = scrape(client, admin)

    job_id = run_job(client, admin, {})
    for _ in range(3):
        assert (
            client.get(f"/admin/batch-jobs/{job_id}", headers=admin.headers).status_code
            == 200
        )
    assert (
        client.get("/admin/batch-jobs/batch_missing", headers=admin.headers).status_code
        == 404
    )

    after = scrape(client, admin)
    ok = {"method": "GET", "route": route, "status": "200"}
    missing = {"method": "GET", "route": route, "status": "404"}
    # wait_for_status polls the same route too: at least the three GETs here.
    assert value(after, name, **ok) - value(before, name, **ok) >= 3
    assert value(after, name, **missing) - value(before, name, **missing) == 1
    created = {"method": "POST", "route": "/admin/batch-jobs", "status": "201"}
    assert value(after, name, **created) - value(before, name, **created) == 1
    # No series is labelled with a job's id: routes are templates.
    assert not any(job_id in str(labels) for (_, labels) in after)
    assert (
        total(after, "jobstream_http_request_duration_seconds_bucket", le="+Inf") >= 5
    )


@pytest.mark.parametrize("header", ["Bearer", "Basic abc"])
def test_a_bearer_that_is_not_the_token_needs_a_login(
    client: TestClient[Any], header: str
) -> None:
    response = client.get("/metrics", headers={"Authorization": header})
    assert response.status_code == 401


def test_a_broker_that_does_not_answer_leaves_nats_figures_absent_quickly(
    tmp_path: Path,
) -> None:
    # Nothing listens on this port: every connection is refused.
    settings = msgspec.structs.replace(
        make_settings(tmp_path),
        nats_url=f"nats://127.0.0.1:{free_port()}",
        file_store="local",
    )
    runtime = Runtime(
        settings, registry=StrategyRegistry([ScriptedStrategy()]), process_jobs=False
    )
    with TestClient(app=create_app(runtime)) as client:
        admin = new_user(runtime, "admin_user")

        started = time.monotonic()
        scraped = client.get("/metrics", headers=admin.headers)
        system = client.get("/admin/jobstream/system", headers=admin.headers)

        assert time.monotonic() - started < 5  # a 1 s budget, then cached
        assert scraped.status_code == 200
        samples = parse(scraped.text)
        assert value(samples, "jobstream_nats_up") == 0
        assert not any(
            "nats_stream" in name or "consumer" in name for name, _ in samples
        )
        assert system.status_code == 200
        body = system.json()
        assert body["nats"] == {"stream_pending": None, "consumer_pending": None}
        assert body["relay"] == {"leader": None, "lag": body["read_models"][0]["head"]}
