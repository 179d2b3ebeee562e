"""Stopping while the NATS connection is reconnecting closes it instead of raising."""

from __future__ import annotations

from typing import cast

from nats.aio.client import Client
from nats.errors import ConnectionReconnectingError

from service.nats_client import disconnect


class FakeClient:
    """The part of nats-py's Client that `disconnect` uses."""

    def __init__(self, *, drain_raises: BaseException | None = None) -> None:
        self.drain_raises = drain_raises
        self.calls: list[str] = []
        self.is_closed = False

    async def drain(self) -> None:
        self.calls.append("drain")
        if self.drain_raises is not None:
            raise self.drain_raises
        self.is_closed = True

    async def close(self) -> None:
        self.calls.append("close")
        self.is_closed = True


async def test_a_healthy_connection_is_drained() -> None:
    nc = FakeClient()
    await disconnect(cast("Client", nc))
    assert nc.calls == ["drain"]
    assert nc.is_closed


async def test_a_reconnecting_connection_is_closed_instead() -> None:
    nc = FakeClient(drain_raises=ConnectionReconnectingError())
    await disconnect(cast("Client", nc))  # no exception reaches the caller
    assert nc.calls == ["drain", "close"]
    assert nc.is_closed


async def test_a_closed_connection_is_left_alone() -> None:
    nc = FakeClient()
    nc.is_closed = True
    await disconnect(cast("Client", nc))
    assert nc.calls == []
