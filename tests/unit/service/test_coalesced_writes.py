"""The writes of one turn of the event loop leave in one write of the transport."""

from __future__ import annotations

import asyncio
from typing import Any

from service.http.coalesced_writes import CoalescedWrites


class RecordingTransport:
    """What the socket was asked to send, write by write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 8000) if name == "sockname" else default


async def turn() -> None:
    await asyncio.sleep(0)


async def test_a_head_and_body_written_in_one_turn_leave_as_one_write() -> None:
    real = RecordingTransport()
    wrapped = CoalescedWrites(real, asyncio.get_running_loop())  # type: ignore[arg-type]

    wrapped.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    wrapped.write(b"{}")
    assert real.writes == []
    assert wrapped.get_write_buffer_size() == 40
    await turn()

    assert real.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]


async def test_a_head_alone_leaves_at_the_end_of_its_turn() -> None:
    real = RecordingTransport()
    wrapped = CoalescedWrites(real, asyncio.get_running_loop())  # type: ignore[arg-type]

    wrapped.write(b"head")
    await turn()
    wrapped.writelines([b"chunk", b"-more"])
    await turn()

    assert real.writes == [b"head", b"chunk-more"]


async def test_a_close_sends_what_is_pending_first() -> None:
    real = RecordingTransport()
    wrapped = CoalescedWrites(real, asyncio.get_running_loop())  # type: ignore[arg-type]

    wrapped.write(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
    wrapped.close()
    await turn()  # the flush scheduled for the turn finds nothing left

    assert real.writes == [b"HTTP/1.1 408 Request Timeout\r\n\r\n"]
    assert real.closed


async def test_nothing_is_written_to_a_transport_already_closing() -> None:
    real = RecordingTransport()
    wrapped = CoalescedWrites(real, asyncio.get_running_loop())  # type: ignore[arg-type]

    wrapped.write(b"late")
    real.closed = True  # the peer went away meanwhile
    await turn()

    assert real.writes == []
    assert wrapped.is_closing()
    assert wrapped.get_extra_info("sockname") == ("127.0.0.1", 8000)
