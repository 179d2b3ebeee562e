"""Which requests the hot lane may take before Litestar's router, routed exactly."""

from __future__ import annotations

from typing import Any

import pytest

from service.http.front_door import routed_here


def scope_for(path: str) -> Any:
    return {"type": "http", "method": "GET", "path": path, "headers": []}


def test_the_list_path_is_the_lists_route() -> None:
    scope = scope_for("/admin/batch-jobs")

    assert routed_here(scope)
    assert (scope["path_template"], scope["path_params"]) == ("/admin/batch-jobs", {})


def test_a_job_path_is_the_jobs_route_with_its_id() -> None:
    scope = scope_for("/admin/batch-jobs/batch_01ABC")

    assert routed_here(scope)
    assert scope["path_template"] == "/admin/batch-jobs/{job_id}"
    assert scope["path_params"] == {"job_id": "batch_01ABC"}


@pytest.mark.parametrize(
    "path",
    [
        "/admin/batch-jobs/",  # no id: the router's business (trailing slash)
        "/admin/batch-jobs/batch_1/confirm",  # another route under the job
        "/admin/batch-jobs/batch_1/",
        "/admin/batch-jobsx",
        "/admin/batch-jobs-x/batch_1",
        "/admin/products",
        "/",
    ],
)
def test_any_other_path_is_left_to_the_router(path: str) -> None:
    scope = scope_for(path)

    assert not routed_here(scope)
    assert "path_template" not in scope
