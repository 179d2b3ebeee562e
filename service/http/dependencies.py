"""Request-scoped dependencies: the runtime and the authenticated caller."""

from __future__ import annotations

from typing import Any, cast

import anyio.to_thread
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency

from domain.users import User
from service.http.identity import authenticate, authenticate_from_memory
from service.ports import ApiRuntime


def provide_runtime(state: State) -> ApiRuntime:
    return cast("ApiRuntime", state.runtime)


async def provide_caller(
    request: Request[Any, Any, Any], runtime: NamedDependency[ApiRuntime]
) -> User:
    # Most requests are answered from memory; only a miss pays a thread hop for I/O.
    user = authenticate_from_memory(request, runtime)
    if user is not None:
        return user
    return await anyio.to_thread.run_sync(authenticate, request, runtime)
