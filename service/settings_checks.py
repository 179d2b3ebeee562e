"""Each JOBSTREAM_* value checked on its own, so a bad one is named in one clear line."""

from __future__ import annotations

import math
import re
import types
import typing
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import msgspec

from service.strategies.limits import parse_limits

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

PREFIX = "JOBSTREAM_"
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
MIN_SECRET_BYTES = 32  # HMAC-SHA256 keys shorter than the hash are guessable
MIN_TOKEN_BYTES = 16  # a bearer token anyone may try: 128 bits at least
MAX_PORT = 65_535
MAX_REPLICAS = 5  # JetStream's limit
MAX_HOURS = 876_000  # a century
NATS_SCHEMES = ("nats", "tls", "ws", "wss")
POSTGRES_SCHEMES = ("postgresql", "postgres")
HTTP_SCHEMES = ("https", "http")


class CheckedSettings(Protocol):
    """What `check` reads of Settings by name (RANGES' fields it reads by getattr).

    A Protocol, so this module needs no import of `service.settings`, which imports it.
    """

    @property
    def admin_cors(self) -> str: ...
    @property
    def data_dir(self) -> str: ...
    @property
    def data_path(self) -> Path: ...
    @property
    def type_concurrency(self) -> str: ...
    @property
    def file_store(self) -> str | None: ...
    @property
    def database_url(self) -> str | None: ...
    @property
    def backend_url(self) -> str | None: ...
    @property
    def nats_url(self) -> str | None: ...
    @property
    def metrics_token(self) -> str | None: ...


class SettingsError(ValueError):
    """A JOBSTREAM_* variable holds a value the service cannot use."""


def variable(field: str) -> str:
    return PREFIX + field.upper()


def convert(name: str, value: str, annotation: Any) -> Any:
    """`value` as the field's type, or SettingsError naming the variable `name`."""
    _check_text(name, value)
    try:
        return msgspec.convert(value, annotation, strict=False)
    except msgspec.ValidationError:
        raise SettingsError(f"{name} {_expected(annotation)}, got {value!r}") from None


def _check_text(name: str, value: str) -> None:
    # The OS passes neither, but a caller's mapping can (and SQL text refuses NUL).
    if "\x00" in value:
        raise SettingsError(f"{name} contains U+0000 (NUL)")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise SettingsError(f"{name} is not valid UTF-8") from None


def _expected(annotation: Any) -> str:
    if typing.get_origin(annotation) in {typing.Union, types.UnionType}:  # `X | None`
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is typing.Literal:
        return "must be one of " + ", ".join(typing.get_args(annotation))
    return {
        int: "must be an integer",
        float: "must be a number",
        bool: "must be true or false (or 1 or 0)",
    }.get(annotation, f"must be a {getattr(annotation, '__name__', annotation)}")


def _at_least(low: float) -> tuple[Callable[[Any], bool], str]:
    return (lambda v: v >= low and math.isfinite(v)), f"must be {low:g} or more"


def _hours(
    zero_means: str, *, optional: bool = False
) -> tuple[Callable[[Any], bool], str]:
    """Hours from 0 (`zero_means`) to a century: past it JetStream's nanoseconds overflow."""

    def usable(v: Any) -> bool:
        return (optional and v is None) or (v is not None and 0 <= v <= MAX_HOURS)

    return usable, f"must be from 0 ({zero_means}) to {MAX_HOURS} hours"


def _positive() -> tuple[Callable[[Any], bool], str]:
    return (lambda v: v > 0 and math.isfinite(v)), "must be a positive number"


# field -> (is the value usable, what it must be); fields not listed take any value.
RANGES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "port": (lambda v: 0 <= v <= MAX_PORT, f"must be from 0 to {MAX_PORT}"),
    "log_level": (lambda v: v.lower() in LOG_LEVELS, "must be one of " + ", ".join(LOG_LEVELS)),
    "processor_threads": _at_least(1),
    "max_processing_attempts": _at_least(1),
    "read_your_writes_timeout": _positive(),
    "read_model_poll_seconds": _positive(),
    "session_ttl_seconds": _at_least(1),
    "nats_replicas": (lambda v: 1 <= v <= MAX_REPLICAS, f"must be from 1 to {MAX_REPLICAS}"),
    "worker_concurrency": _at_least(1),
    "lease_seconds": _positive(),
    "relay_leadership_seconds": _at_least(2),
    "max_deliveries": (lambda v: v == -1 or v >= 1, "must be -1 (no limit) or 1 or more"),
    "stuck_job_seconds": _positive(),
    "work_redrive_seconds": _positive(),
    "upload_max_bytes": _at_least(1),
    "download_url_ttl_seconds": _at_least(1),
    "http_workers": _at_least(0),
    "stream_max_age_hours": _hours("no limit", optional=True),
    "stream_max_bytes": (lambda v: v is None or v >= 0, "must be 0 (no limit) or more"),
    "file_retention_hours": _hours("kept for ever"),
    "upload_retention_hours": _hours("kept for ever"),
}  # fmt: skip


def check(settings: CheckedSettings) -> None:
    """SettingsError naming the first variable whose value is out of its range."""
    for field, (usable, must) in RANGES.items():
        value = getattr(settings, field)
        if not usable(value):
            raise SettingsError(f"{variable(field)} {must}, got {value!r}")
    for field in ("jwt_secret", "cookie_secret"):
        secret = getattr(settings, field)
        if secret is not None and len(secret.encode()) < MIN_SECRET_BYTES:
            raise SettingsError(
                f"{variable(field)} must be at least {MIN_SECRET_BYTES} bytes, "
                f"got {len(secret.encode())}"
            )
    _check_metrics_token(settings.metrics_token)
    _check_urls(settings)
    _check_cors(settings.admin_cors)
    if settings.data_path.exists() and not settings.data_path.is_dir():
        raise SettingsError(
            f"JOBSTREAM_DATA_DIR is not a directory: {settings.data_dir}"
        )
    try:
        parse_limits(settings.type_concurrency)
    except ValueError as error:
        raise SettingsError(str(error)) from None
    if settings.file_store == "nats" and settings.nats_url is None:
        raise SettingsError("JOBSTREAM_FILE_STORE=nats needs JOBSTREAM_NATS_URL")


def _check_metrics_token(token: str | None) -> None:
    """JOBSTREAM_METRICS_TOKEN goes in an HTTP header: long enough, one printable word."""
    if token is None:
        return
    if len(token.encode()) < MIN_TOKEN_BYTES:
        raise SettingsError(
            f"JOBSTREAM_METRICS_TOKEN must be at least {MIN_TOKEN_BYTES} bytes, "
            f"got {len(token.encode())}"
        )
    if (
        not token.isascii()
        or not token.isprintable()
        or any(c.isspace() for c in token)
    ):
        raise SettingsError(
            "JOBSTREAM_METRICS_TOKEN must be printable ASCII without spaces"
        )


def _check_cors(origins: str) -> None:
    """Each `/…/` entry of JOBSTREAM_ADMIN_CORS must compile (it becomes a regex)."""
    for entry in (part.strip() for part in origins.split(",")):
        if len(entry) > 1 and entry[0] == entry[-1] == "/":
            try:
                re.compile(entry[1:-1])
            except re.error as error:
                raise SettingsError(
                    f"JOBSTREAM_ADMIN_CORS: {entry!r} is not a regular expression ({error})"
                ) from None


def _check_urls(settings: CheckedSettings) -> None:
    if settings.database_url is not None:
        _check_url("database_url", settings.database_url, POSTGRES_SCHEMES)
    if settings.backend_url is not None:
        _check_url("backend_url", settings.backend_url, HTTP_SCHEMES)
    if settings.nats_url is not None:
        servers = [url.strip() for url in settings.nats_url.split(",") if url.strip()]
        if not servers:
            raise SettingsError("JOBSTREAM_NATS_URL names no server")
        for url in servers:
            _check_url("nats_url", url, NATS_SCHEMES)


def _either(schemes: tuple[str, ...]) -> str:
    named = [f"{scheme}://" for scheme in schemes]
    return ", ".join(named[:-1]) + " or " + named[-1] if len(named) > 1 else named[0]


def _check_url(field: str, url: str, schemes: tuple[str, ...]) -> None:
    """A URL of one of `schemes` with a usable port; its password is never echoed."""
    parts = urlsplit(url)
    if "://" not in url or parts.scheme not in schemes:
        got = f"{parts.scheme}://" if "://" in url else "no scheme"
        raise SettingsError(
            f"{variable(field)} must start with {_either(schemes)}, got {got}"
        )
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError:
        raise SettingsError(
            f"{variable(field)} has a port that is not from 0 to {MAX_PORT}: "
            f"{parts.netloc.rpartition('@')[2]!r}"
        ) from None
