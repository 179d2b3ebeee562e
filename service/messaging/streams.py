"""The JetStream stream that carries batch-job and catalog events.

Created with this version's configuration if missing; an existing stream is brought
up to what this version needs (subjects that capture every published subject, and
the retention limits the settings name) and otherwise left as operators set it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from service.nats_client import CREATE_BACKOFF, create_or_get
from service.retry import is_transient

if TYPE_CHECKING:
    from nats.js.api import StreamInfo
    from nats.js.client import JetStreamContext

    from service.settings import Settings

log = structlog.get_logger("relay")
# Re-publishes after a relay crash are dropped within this window (Nats-Msg-Id).
DUPLICATE_WINDOW_SECONDS = 600.0
UNLIMITED_BYTES = -1  # JetStream's "no limit" for max_bytes
# What the relay publishes under the prefix: the stream must capture both.
PUBLISHED = ("batch", "catalog")


@dataclass(frozen=True)
class StreamLimits:
    """The stream's retention; None leaves an existing stream's own value (0: none)."""

    max_age_hours: float | None = None
    max_bytes: int | None = None

    @classmethod
    def of(cls, settings: Settings) -> StreamLimits:
        return cls(settings.stream_max_age_hours, settings.stream_max_bytes)

    def max_age_seconds(self) -> float:
        return (self.max_age_hours or 0) * 3600

    def max_bytes_value(self) -> int:
        return self.max_bytes or UNLIMITED_BYTES


NO_LIMITS = StreamLimits()


def published_subjects(prefix: str) -> list[str]:
    """`jobstream.batch.>` and `jobstream.catalog.>` for prefix `jobstream`."""
    return [f"{prefix}.{family}.>" for family in PUBLISHED]


def stream_config(
    name: str, prefix: str, replicas: int = 1, limits: StreamLimits = NO_LIMITS
) -> StreamConfig:
    return StreamConfig(
        name=name,
        subjects=[f"{prefix}.>"],
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=replicas,
        max_age=limits.max_age_seconds(),
        max_bytes=limits.max_bytes_value(),
    )


def covers(subject_filter: str, subject: str) -> bool:
    """Whether every subject `subject` matches (it may hold wildcards) matches the filter."""
    wanted, given = subject_filter.split("."), subject.split(".")
    for index, part in enumerate(wanted):
        if part == ">":
            return index < len(given)
        if index >= len(given) or given[index] == ">":
            return False
        if part not in {"*", given[index]}:
            return False
    return len(wanted) == len(given)


def reconciled(
    config: StreamConfig, prefix: str, limits: StreamLimits
) -> StreamConfig | None:
    """`config` with the subjects and limits this version needs; None if it has them."""
    changes: dict[str, object] = {}
    subjects = list(config.subjects or [])
    missing = [
        needed
        for needed in published_subjects(prefix)
        if not any(covers(have, needed) for have in subjects)
    ]
    if missing:
        changes["subjects"] = subjects + missing
    if limits.max_age_hours is not None and not math.isclose(
        config.max_age or 0, limits.max_age_seconds(), abs_tol=1e-3
    ):
        changes["max_age"] = limits.max_age_seconds()
    current_bytes = UNLIMITED_BYTES if config.max_bytes is None else config.max_bytes
    if limits.max_bytes is not None and current_bytes != limits.max_bytes_value():
        changes["max_bytes"] = limits.max_bytes_value()
    return dataclasses.replace(config, **changes) if changes else None  # type: ignore[arg-type]


async def ensure_stream(
    js: JetStreamContext,
    name: str,
    prefix: str,
    replicas: int = 1,
    limits: StreamLimits = NO_LIMITS,
) -> None:
    """Create the stream if it is missing, else bring it up to date (`reconciled`).

    Race-free: processes starting at once may all create it (service.nats_client)
    and all update it: each computes the same change from what the server holds
    and updating to the same configuration twice changes nothing. Replicas and
    limits the settings leave unset stay as operators set them (`nats stream edit`).
    """
    info = await create_or_get(
        lambda: js.stream_info(name),
        lambda: js.add_stream(stream_config(name, prefix, replicas, limits)),
        missing=NotFoundError,
        what=f"stream {name}",
    )
    await _update_if_needed(js, info, prefix, limits)


async def _update_if_needed(
    js: JetStreamContext, info: StreamInfo, prefix: str, limits: StreamLimits
) -> None:
    name = info.config.name or ""
    held: StreamInfo | None = info
    deadline = time.monotonic() + CREATE_BACKOFF.budget
    for pause in CREATE_BACKOFF.pauses():
        try:
            held = held or await js.stream_info(name)
            update = reconciled(held.config, prefix, limits)
            if update is None:
                return
            await js.update_stream(update)
        except Exception as error:
            if not is_transient(error) or time.monotonic() + pause > deadline:
                raise
            log.info("relay.stream_update_retried", stream=name, error=repr(error))
            held = None  # look again: another process may have updated it
            await asyncio.sleep(pause)
            continue
        log.info(
            "relay.stream_updated",
            stream=name,
            subjects=update.subjects,
            max_age_s=update.max_age,
            max_bytes=update.max_bytes,
        )
        return
