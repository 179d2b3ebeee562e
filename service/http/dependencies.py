"""Request-scoped dependencies: the runtime and the authenticated caller."""

from __future__ import annotations

from typing import Any, cast

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency

from domain.users import User
from service.http.identity import authenticate
from service.ports import ApiRuntime


def provide_runtime(state: State) -> ApiRuntime:
    return cast("ApiRuntime", state.runtime)


def provide_caller(
    request: Request[Any, Any, Any], runtime: NamedDependency[ApiRuntime]
) -> User:
    return authenticate(request, runtime)
