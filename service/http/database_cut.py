"""While PostgreSQL is unreachable, every request answers 503 at once.

A request that arrives while the gate (service.db_gate) says the database is down
is answered 503 before it is handled. One already in flight when the database goes
away would wait for TCP and eventsourcing's retries (many seconds): it is answered
503 as soon as the gate knows, and whatever its handler sends later is dropped (a
write it was making may still land once the database is back, as with any timeout;
the 503 tells the caller to retry). So a request answers within about
STALE_SECONDS + PROBE_SECONDS + RECHECK_SECONDS (2.25 s) of the cut, `/health`
included (in its own shape).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import msgspec
import structlog
from litestar.enums import ScopeType

from service.db_gate import gate_on
from service.http.schemas import ErrorResponse, HealthResponse

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from service.db_gate import DatabaseGate

log = structlog.get_logger("http")

RECHECK_SECONDS = 0.25  # how often a request in flight looks at the gate
MESSAGE = "The database is unreachable. Retry the request."
_ERROR_BODY = msgspec.json.encode(
    ErrorResponse(type="unexpected_state", message=MESSAGE)
)
_HEALTH_BODY = msgspec.json.encode(
    HealthResponse(status="unavailable", checks={"database": "down"})
)


def database_cut_guard(database_url: str | None) -> Callable[[ASGIApp], ASGIApp]:
    """Middleware answering 503 while the gate on `database_url` says it is down.

    The gate is the one the app's lifespan opened (none: embedded, or not started).
    """

    def guard(app: ASGIApp) -> ASGIApp:
        if database_url is None:
            return app

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            gate = gate_on(database_url)
            if gate is None or scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            reason = gate.down()
            if reason is not None:
                log.warning("http.database_unreachable", path=scope["path"])
                await _unavailable(scope, send)
                return
            exchange = _Exchange(scope, send, gate)
            try:
                await app(scope, receive, exchange.send)
            finally:
                exchange.finish()

        return middleware

    return guard


class _Exchange:
    """One request's response, which the guard may answer in its handler's place."""

    def __init__(self, scope: Scope, send: Send, gate: DatabaseGate) -> None:
        self._scope, self._send, self._gate = scope, send, gate
        self._started = False  # the handler began its response
        self._answered = False  # the guard answered in its place
        self._done = False
        self._timer = asyncio.get_running_loop().call_later(
            RECHECK_SECONDS, self._check
        )

    async def send(self, message: Message) -> None:
        if self._answered:
            return  # the caller has its 503; this late answer has nowhere to go
        if message["type"] == "http.response.start":
            self._started = True
        await self._send(message)

    def finish(self) -> None:
        self._done = True
        self._timer.cancel()

    def _check(self) -> None:
        if self._done or self._started:
            return
        if self._gate.down() is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(RECHECK_SECONDS, self._check)
            return
        self._answered = True
        log.warning(
            "http.database_unreachable", path=self._scope["path"], in_flight=True
        )
        task = asyncio.ensure_future(_unavailable(self._scope, self._send))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())


async def _unavailable(scope: Scope, send: Send) -> None:
    path = scope["path"]
    body = _HEALTH_BODY if path in {"/health", "/health/details"} else _ERROR_BODY
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", b"1"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
