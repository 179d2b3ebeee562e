"""Whether the environment asks for tracing: read without importing OpenTelemetry."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

TRUE = frozenset({"true", "1", "yes", "on"})


def wanted(environ: Mapping[str, str]) -> bool:
    """`OTEL_TRACES_EXPORTER` set to something other than `none`, the SDK not disabled.

    Jobstream's default is off (the SDK's own default exporter is `otlp`): tracing
    costs nothing until an operator names where spans go.
    """
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() in TRUE:
        return False
    names = exporter_names(environ)
    return bool(names) and names != ["none"]


def exporter_names(environ: Mapping[str, str]) -> list[str]:
    """The comma-separated names in `OTEL_TRACES_EXPORTER`, lower case."""
    raw = environ.get("OTEL_TRACES_EXPORTER", "")
    return [name.strip().lower() for name in raw.split(",") if name.strip()]
