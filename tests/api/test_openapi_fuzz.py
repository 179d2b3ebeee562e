"""Property-based fuzz of the API from its own OpenAPI document: no request gets a 5xx.

schemathesis generates requests for every operation of `/schema/openapi.json`, valid
and invalid, and sends them over HTTP to the app served by uvicorn in this process,
as an admin (API token). Every JSON body and list query is documented; should an
operation lack one, the test adds a free-form one to its copy of the document, so
that it gets bodies and queries too.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Self

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case as _Case
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from schemathesis.schemas import APIOperation as _APIOperation

from service.http.app import create_app
from service.http.header_deadline import protocol_class
from service.runtime import Runtime
from tests.integration.conftest import free_port
from tests.support import new_user

Case = _Case[Any]
APIOperation = _APIOperation[Any, Any, Any, Any]
ANY_JSON_OBJECT = {"type": "object", "additionalProperties": True}
EXAMPLES = 6  # per operation and mode: about 650 requests in all
LIVE_FEED = "/admin/jobstream/feed"
LIST_PARAMETERS = ("limit", "offset", "fields", "expand", "order", "q", "id[]")


def with_free_form_inputs(document: dict[str, Any]) -> dict[str, Any]:
    """The document, where an operation reads a body or a query it does not describe."""
    enriched = copy.deepcopy(document)
    for path, item in enriched["paths"].items():
        post = item.get("post")
        takes_body = not path.endswith(("/confirm", "/cancel"))
        if post is not None and "requestBody" not in post and takes_body:
            post["requestBody"] = {
                "content": {"application/json": {"schema": ANY_JSON_OBJECT}}
            }
        get = item.get("get")
        if get is not None and not get.get("parameters") and path.startswith("/admin"):
            get["parameters"] = [
                {"name": name, "in": "query", "schema": {"type": "string"}}
                for name in LIST_PARAMETERS
            ]
    return enriched


class ServedApp:
    """The API on a free loopback port, uvicorn in a thread, as `serve` runs it."""

    def __init__(self, runtime: Runtime) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            create_app(runtime), host="127.0.0.1", port=self.port, log_config=None,
            access_log=False, http=protocol_class(10.0), lifespan="on",
        )  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


@pytest.fixture
def served(runtime: Runtime) -> Iterator[ServedApp]:
    with ServedApp(runtime) as app:
        yield app


@pytest.fixture
def admin_headers(runtime: Runtime, served: ServedApp) -> dict[str, str]:
    return new_user(runtime, "fuzz_admin").headers


def operations(served: ServedApp) -> list[APIOperation]:
    document = httpx.get(f"{served.url}/schema/openapi.json").json()
    schema = schemathesis.openapi.from_dict(with_free_form_inputs(document))
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), results
    return [result.ok() for result in results if isinstance(result, Ok)]


def modes(operation: APIOperation) -> tuple[GenerationMode, ...]:
    """Invalid inputs too, where the document describes a query or a body to break."""
    if list(operation.query) or list(operation.body):
        return (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    return (GenerationMode.POSITIVE,)


def server_errors(
    operation: APIOperation, mode: GenerationMode, call: Callable[[Case], Any]
) -> list[str]:
    """Fuzz one operation; the first 5xx it finds, if any (no shrinking: bounded)."""
    found: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES, deadline=None, phases=[Phase.generate],
        suppress_health_check=list(HealthCheck), derandomize=True, database=None,
    )  # fmt: skip
    def fuzz(case: Case) -> None:
        response = call(case)
        if response.status_code >= 500 and not found:
            found.append(
                f"{case.method} {case.formatted_path} -> {response.status_code}: "
                f"{response.text[:300]}\n  {case.as_curl_command()}"
            )

    try:
        fuzz()
    except Unsatisfiable:
        # Nothing in this operation's document can be made invalid (NEGATIVE).
        assert mode is GenerationMode.NEGATIVE, operation.label
    return found


@dataclass(frozen=True)
class StreamAnswer:
    status_code: int
    text: str


def answer_of_stream(
    served: ServedApp, case: Case, headers: dict[str, str]
) -> StreamAnswer:
    """A live feed streams until the client leaves: its status is the answer."""
    with httpx.stream(
        case.method, f"{served.url}{case.formatted_path}", params=case.query,
        headers={**dict(case.headers or {}), **headers}, timeout=30,
    ) as response:  # fmt: skip
        failed = response.status_code >= 500
        return StreamAnswer(
            response.status_code, response.read().decode() if failed else ""
        )


def test_no_request_gets_a_server_error(
    served: ServedApp, admin_headers: dict[str, str]
) -> None:
    called: set[str] = set()

    def call(case: Case) -> Any:
        called.add(case.operation.label)
        if case.operation.path == LIVE_FEED:
            return answer_of_stream(served, case, admin_headers)
        return case.call(base_url=served.url, headers=admin_headers, timeout=30)

    every = operations(served)
    started = time.monotonic()
    failures = [
        failure
        for operation in every
        for mode in modes(operation)
        for failure in server_errors(operation, mode, call)
    ]

    assert failures == [], "\n".join(failures)
    assert called == {operation.label for operation in every}  # each one fuzzed
    assert len(called) >= 37
    # Bounded: a hang or a slow path shows; 150 s measured on 2 busy shared cores.
    assert time.monotonic() - started < 240
