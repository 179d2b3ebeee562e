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
import contextlib
from typing import TYPE_CHECKING

import msgspec
import structlog
from litestar.enums import ScopeType

from service.db_gate import RECHECK_SECONDS, gate_on
from service.http.schemas import ErrorResponse, HealthResponse

if TYPE_CHECKING:
    from collections.abc import Iterator

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


class CutGuard:
    """One app's watch over its requests, for the middleware and the create lane.

    The create lane (service.http.hot_create) answers ahead of the middleware, so it
    asks `down` before it takes a request and keeps the one it takes `watching`.
    """

    def __init__(self, database_url: str | None) -> None:
        self._database_url = database_url
        self._watch = _InFlight()

    def gate(self) -> DatabaseGate | None:
        """The gate the app's lifespan opened; None embedded, or not started."""
        return None if self._database_url is None else gate_on(self._database_url)

    def down(self) -> bool:
        gate = self.gate()
        return gate is not None and gate.down() is not None

    @contextlib.contextmanager
    def watching(self, scope: Scope, send: Send) -> Iterator[_Exchange | None]:
        """The request's exchange, answered 503 if the database goes away meanwhile.

        Send the response through it (`exchange.send`); None: there is no gate.
        """
        gate = self.gate()
        if gate is None:
            yield None
            return
        exchange = _Exchange(scope, send)
        self._watch.add(exchange, gate)
        try:
            yield exchange
        finally:
            self._watch.discard(exchange)

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """Middleware answering 503 while the gate says the database is down."""
        if self._database_url is None:
            return app

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            if self.down():
                log.warning("http.database_unreachable", path=scope["path"])
                await _unavailable(scope, send)
                return
            with self.watching(scope, send) as exchange:
                await app(scope, receive, send if exchange is None else exchange.send)

        return middleware


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
