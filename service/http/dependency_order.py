"""Resolve a handler's dependencies one after another, not in an anyio task group.

Litestar 2.25 resolves each level of a handler's dependency graph concurrently, in
an anyio task group, whenever that level holds more than one dependency. Jobstream's
dependencies are getters of in-memory services and one authentication that answers
from memory (a miss hops to a thread by itself), so there is nothing to overlap:
the task group, two tasks and their cancel scopes cost about 40% of a GET by id's
CPU (in-process profile: 470 µs a request with it, 290 µs without). In order, each
dependency still sees every one it depends on, and generator dependencies still
join the cleanup group; the first error raised is the one the task group re-raised.

This is the one place that touches Litestar's private `KwargsModel`; the contract
test tests/unit/service/test_dependency_order.py fails if an upgrade moves what it
relies on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar._kwargs.cleanup import DependencyCleanupGroup
from litestar._kwargs.dependencies import resolve_dependency
from litestar._kwargs.kwargs_model import KwargsModel

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection

_LITESTAR_RESOLVE = KwargsModel.resolve_dependencies


async def resolve_in_order(
    self: KwargsModel,
    connection: ASGIConnection[Any, Any, Any, Any],
    kwargs: dict[str, Any],
) -> DependencyCleanupGroup:
    """KwargsModel.resolve_dependencies, level by level, each level in order."""
    cleanup_group = DependencyCleanupGroup()
    for batch in self.dependency_batches:
        for dependency in batch:
            await resolve_dependency(dependency, connection, kwargs, cleanup_group)
    return cleanup_group


def resolve_dependencies_in_order() -> None:
    """Install the in-order resolution (idempotent; every app of the process)."""
    KwargsModel.resolve_dependencies = resolve_in_order  # type: ignore[method-assign]


def litestar_resolution() -> object:
    """Litestar's own resolver, as it was before any install (for the contract test)."""
    return _LITESTAR_RESOLVE
