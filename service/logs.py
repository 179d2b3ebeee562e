"""The one structlog configuration: JSON lines off a terminal, readable on one."""

from __future__ import annotations

import logging
import sys
from typing import Any

import msgspec
import structlog

_encoder = msgspec.json.Encoder()


def _serialize(value: Any, **_: Any) -> bytes:
    # structlog passes `default=`; msgspec's encode takes no such keyword.
    return _encoder.encode(value)


def configure_logging(level: str = "info", log_format: str = "auto") -> None:
    threshold = logging.getLevelNamesMapping().get(level.upper())
    if threshold is None:  # load_settings refuses these; a direct caller gets told too
        raise ValueError(
            f"log level must be debug, info, warning, error or critical: {level!r}"
        )
    as_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    renderer: Any
    if as_json:
        renderer = structlog.processors.JSONRenderer(serializer=_serialize)
        factory: Any = structlog.BytesLoggerFactory(sys.stderr.buffer)
    else:
        renderer = structlog.dev.ConsoleRenderer()
        factory = structlog.PrintLoggerFactory(sys.stderr)
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=factory,
        cache_logger_on_first_use=True,
    )
