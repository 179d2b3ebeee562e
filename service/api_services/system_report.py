"""GET /admin/jobstream/system's shapes (docs/operator-api.md)."""

from __future__ import annotations

from datetime import datetime

import msgspec


class WorkerInfo(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    host: str
    pid: int
    started_at: datetime
    last_seen: datetime
    in_flight: int
    alive: bool


class RelayInfo(msgspec.Struct, frozen=True, kw_only=True):
    leader: str | None
    lag: int


class ReadModelInfo(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    position: int
    head: int
    lag: int


class MinuteCounts(msgspec.Struct, frozen=True, kw_only=True):
    minute: datetime
    created: int = 0
    completed: int = 0
    failed: int = 0
    canceled: int = 0


class NatsInfo(msgspec.Struct, frozen=True, kw_only=True):
    stream_pending: int | None
    consumer_pending: int | None


class SystemReport(msgspec.Struct, frozen=True, kw_only=True):
    workers: list[WorkerInfo]
    relay: RelayInfo | None
    read_models: list[ReadModelInfo]
    throughput: list[MinuteCounts]
    nats: NatsInfo | None
    now: datetime
