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

from service.db_gate import RECHECK_SECONDS, gate_on
from service.http.schemas import ErrorResponse, HealthResponse

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from service.db_gate import DatabaseGate

log = structlog.get_logger("http")

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
        watch = _InFlight()

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            gate = gate_on(database_url)
            if gate is None or scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            if gate.down() is not None:
                log.warning("http.database_unreachable", path=scope["path"])
                await _unavailable(scope, send)
                return
            exchange = _Exchange(scope, send)
            watch.add(exchange, gate)
            try:
                await app(scope, receive, exchange.send)
            finally:
                watch.discard(exchange)

        return middleware

    return guard


class _Exchange:
    """One request's response, which the guard may answer in its handler's place."""

    __slots__ = ("_send", "answered", "scope", "started")

    def __init__(self, scope: Scope, send: Send) -> None:
        self.scope, self._send = scope, send
        self.started = False  # the handler began its response
        self.answered = False  # the guard answered in its place

    async def send(self, message: Message) -> None:
        if self.answered:
            return  # the caller has its 503; this late answer has nowhere to go
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)

    async def answer_unavailable(self) -> None:
        self.answered = True
        log.warning(
            "http.database_unreachable", path=self.scope["path"], in_flight=True
        )
        await _unavailable(self.scope, self._send)


class _InFlight:
    """The requests being handled, looked at every RECHECK_SECONDS while there are any.

    One watcher per app, not a timer per request: a request costs a set insertion.
    """

    def __init__(self) -> None:
        self._exchanges: set[_Exchange] = set()
        self._watcher: asyncio.Task[None] | None = None
        self._gate: DatabaseGate | None = None

    def add(self, exchange: _Exchange, gate: DatabaseGate) -> None:
        self._exchanges.add(exchange)
        self._gate = gate
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.ensure_future(self._watch())

    def discard(self, exchange: _Exchange) -> None:
        self._exchanges.discard(exchange)

    async def _watch(self) -> None:
        while self._exchanges:
            await asyncio.sleep(RECHECK_SECONDS)
            if self._gate is None or self._gate.down() is None:
                continue
            waiting = [e for e in self._exchanges if not (e.started or e.answered)]
            for exchange in waiting:
                self._exchanges.discard(exchange)
            await asyncio.gather(
                *(e.answer_unavailable() for e in waiting), return_exceptions=True
            )


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
