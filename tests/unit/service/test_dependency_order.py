"""Contract: what service/http/dependency_order.py relies on in Litestar holds.

It replaces `KwargsModel.resolve_dependencies`; these tests fail if an upgrade of
Litestar renames or reshapes what the replacement uses, or if the replacement stops
resolving what Litestar's own resolver resolves (nested levels, several dependencies
on one level, generator cleanup, errors).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar, get
from litestar._kwargs.dependencies import resolve_dependency
from litestar._kwargs.kwargs_model import KwargsModel
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException
from litestar.testing import TestClient

from service.http import dependency_order

CLEANED: list[str] = []


def provide_a() -> str:
    return "a"


def provide_b() -> str:
    return "b"


async def provide_ab(a: NamedDependency[str], b: NamedDependency[str]) -> str:
    return a + b


async def provide_cleaned() -> AsyncIterator[str]:
    yield "c"
    CLEANED.append("c")


def provide_refusal() -> str:
    raise NotAuthorizedException("refused")


@get("/nested", sync_to_thread=False)
def nested(
    a: NamedDependency[str], ab: NamedDependency[str], cleaned: NamedDependency[str]
) -> dict[str, str]:
    return {"a": a, "ab": ab, "cleaned": cleaned}


@get("/refused", sync_to_thread=False)
def refused(a: NamedDependency[str], refusal: NamedDependency[str]) -> str:
    return a + refusal


def app() -> Litestar:
    dependency_order.resolve_dependencies_in_order()
    return Litestar(
        [nested, refused],
        dependencies={
            "a": Provide(provide_a, sync_to_thread=False),
            "b": Provide(provide_b, sync_to_thread=False),
            "ab": Provide(provide_ab),
            "cleaned": Provide(provide_cleaned),
            "refusal": Provide(provide_refusal, sync_to_thread=False),
        },
    )


def test_litestar_still_has_what_the_replacement_uses() -> None:
    original = inspect.signature(dependency_order.litestar_resolution())  # type: ignore[arg-type]
    assert list(original.parameters) == ["self", "connection", "kwargs"]
    assert list(inspect.signature(resolve_dependency).parameters) == [
        "dependency",
        "connection",
        "kwargs",
        "cleanup_group",
    ]
    assert "dependency_batches" in KwargsModel.__slots__


def test_the_replacement_is_what_litestar_calls() -> None:
    dependency_order.resolve_dependencies_in_order()
    assert KwargsModel.resolve_dependencies is dependency_order.resolve_in_order


def test_several_dependencies_on_a_level_nested_levels_and_cleanup() -> None:
    CLEANED.clear()
    with TestClient(app()) as client:
        response = client.get("/nested")
    assert response.status_code == 200
    assert response.json() == {"a": "a", "ab": "ab", "cleaned": "c"}
    assert CLEANED == ["c"]


def test_a_dependency_error_is_the_answer() -> None:
    with TestClient(app()) as client:
        response = client.get("/refused")
    assert response.status_code == 401
    body: dict[str, Any] = response.json()
    assert body["detail"] == "refused"
