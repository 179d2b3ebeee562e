"""A TCP proxy that can be cut like a network link: it goes silent, it closes nothing.

A host cut off from the network does not close its connections; its peers simply
stop hearing from it. `BlackHole.cut()` does that to every connection through the
proxy, open or new: nothing is forwarded either way and nothing is closed (a new
connection is accepted and then left silent, as a SYN into a partition would be).
`heal()` lets the held-back bytes through again, as TCP's retransmissions would.

The proxy runs on an event loop of its own, in a thread, so sync and async tests
both use it. Bytes stay in the kernel's buffers while cut, so TCP keepalives and
`tcp_user_timeout` do not fire through it: what a test shows through a black hole
holds whatever TCP does, on the application's own timeouts.

    with BlackHole(("127.0.0.1", 5432)) as hole:
        url = f"postgresql://postgres@127.0.0.1:{hole.port}/db"
        ...
        hole.cut()
        ...
        hole.heal()
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Self

CHUNK = 65_536


class BlackHole:
    def __init__(self, target: tuple[str, int], host: str = "127.0.0.1") -> None:
        self._target = target
        self._host = host
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._flowing: asyncio.Event | None = None
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def __enter__(self) -> Self:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(5)
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    @property
    def url_host_port(self) -> str:
        return f"{self._host}:{self.port}"

    def cut(self) -> None:
        """Stop forwarding, both ways, on every connection (open or to come)."""
        self._loop.call_soon_threadsafe(self._gate().clear)

    def heal(self) -> None:
        """Forward again, what was held back first."""
        self._loop.call_soon_threadsafe(self._gate().set)

    def _gate(self) -> asyncio.Event:
        assert self._flowing is not None, "use BlackHole as a context manager"
        return self._flowing

    async def _start(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._accept, self._host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for writer in list(self._writers):
            writer.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        self._writers.add(client_writer)
        try:
            await self._gate().wait()  # a connection made during a cut stays silent
            server_reader, server_writer = await asyncio.open_connection(*self._target)
        except (OSError, asyncio.CancelledError):
            client_writer.close()
            return
        self._writers.add(server_writer)
        for reader, writer in (
            (client_reader, server_writer),
            (server_reader, client_writer),
        ):
            task = asyncio.ensure_future(self._pump(reader, writer))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        gate = self._gate()
        try:
            while True:
                await gate.wait()
                data = await reader.read(CHUNK)
                if not data:
                    break
                await gate.wait()  # read just before a cut: held until it heals
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(OSError):
                writer.close()
            self._writers.discard(writer)
