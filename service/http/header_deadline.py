"""uvicorn's HTTP protocol with a deadline and a size cap for a request's head.

uvicorn bounds the idle time between requests (`timeout_keep_alive`), not the time a
client takes to send a request line and headers: a client sending one byte every few
seconds (slowloris) holds its connection forever, and a new connection that sends
nothing is never closed. Like Node's `headersTimeout` and Apache's `mod_reqtimeout`,
this protocol answers 408 and closes the connection when the head is not complete
`header_timeout` seconds after the connection opened or the request's first byte
arrived, and 431 when the head grows past MAX_HEAD_BYTES (httptools has no limit).
"""

from __future__ import annotations

import asyncio

import structlog
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.http.coalesced_writes import CoalescedWrites

log = structlog.get_logger("http")
MAX_HEAD_BYTES = 64 * 1024  # request line and headers; h11's default is 16 KiB


class HeaderDeadlineProtocol(HttpToolsProtocol):
    header_timeout = 10.0  # seconds; set per server by `protocol_class`
    _deadline: asyncio.TimerHandle | None = None
    _head_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # A response's head and body leave in one syscall (service.http.coalesced_writes).
        coalesced = CoalescedWrites(transport, self.loop)
        super().connection_made(coalesced)  # type: ignore[arg-type]
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        waiting = self._deadline is not None
        super().data_received(data)
        if waiting and self._deadline is not None:  # the head is still incomplete
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(431, "Request Header Fields Too Large")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # a keep-alive connection's next request
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def _arm(self) -> None:
        self._head_bytes = 0
        self._deadline = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.cycle is not None and not self.cycle.response_complete:
            self._arm()  # a pipelined request waits on the server, not on the client
            return
        self._refuse(408, "Request Timeout")

    def _refuse(self, status: int, reason: str) -> None:
        self._disarm()
        if self.transport.is_closing():
            return
        log.info("http.request_head_refused", status=status, client=self.client)
        self.transport.write(
            f"HTTP/1.1 {status} {reason}\r\ncontent-length: 0\r\n"
            "connection: close\r\n\r\n".encode()
        )
        self.transport.close()


def protocol_class(header_timeout: float) -> type[HeaderDeadlineProtocol]:
    """The protocol for `uvicorn.run(http=...)`, with this server's deadline."""
    return type(
        "HeaderDeadlineProtocol",
        (HeaderDeadlineProtocol,),
        {"header_timeout": header_timeout},
    )
