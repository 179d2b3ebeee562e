"""A transport that sends what one turn of the event loop writes in one syscall.

uvicorn writes a response's head and its body with two `transport.write` calls, and
uvloop sends each at once: two `send` syscalls per response, about a fifth of a
GET's CPU in profiles of `serve`. Wrapped in this, the writes of one turn of the
loop (the head and the body, which Litestar sends without yielding between them)
are joined and sent at the end of the turn. A head sent alone (a stream whose body
comes later) goes out at the end of its turn too, so nothing waits longer than that.
"""

from __future__ import annotations

import asyncio
from typing import Any


class CoalescedWrites:
    """Wraps `transport`: writes wait for the end of the loop's turn, then go as one."""

    def __init__(
        self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop
    ) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        """Send what is pending now (at the end of the turn, or before a close)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        if not self._transport.is_closing():
            self._transport.write(
                pending[0] if len(pending) == 1 else b"".join(pending)
            )

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def __getattr__(self, name: str) -> Any:
        # Everything else (is_closing, get_extra_info, pause_reading, abort...) as is.
        return getattr(self._transport, name)
