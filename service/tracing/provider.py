"""The process's tracer provider, configured by the SDK from the `OTEL_*` variables.

Imported only when tracing is wanted. The SDK reads its own variables: the resource
(`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`), the sampler
(`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`), the batch processor
(`OTEL_BSP_*`) and the OTLP exporter (`OTEL_EXPORTER_OTLP_*`). Only the exporter's
choice is made here, because the SDK's own picker is private and defaults `otlp` to
gRPC, which Jobstream does not install.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from opentelemetry.sdk.environment_variables import (
    OTEL_EXPORTER_OTLP_PROTOCOL,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
)
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from service.settings_checks import SettingsError
from service.tracing.config import exporter_names

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_SERVICE_NAME = "jobstream"
EXPORTER_GROUP = "opentelemetry_traces_exporter"  # the SDK's entry-point group
# The specification's default OTLP protocol is http/protobuf.
OTLP_BY_PROTOCOL = {"http/protobuf": "otlp_proto_http", "grpc": "otlp_proto_grpc"}


class TracingSettingsError(SettingsError):
    """An `OTEL_*` variable asks for an exporter or protocol that is not there."""


def build_provider(environ: Mapping[str, str]) -> TracerProvider:
    """A provider exporting, through a batch processor, to each named exporter."""
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    provider = TracerProvider(resource=resource)
    for exporter in span_exporters(environ):
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def span_exporters(environ: Mapping[str, str]) -> list[SpanExporter]:
    """One exporter per name in `OTEL_TRACES_EXPORTER`, found by entry point."""
    exporters = []
    for name in exporter_names(environ):
        if name == "none":
            continue
        found = entry_points(
            group=EXPORTER_GROUP, name=_entry_point_name(name, environ)
        )
        if not found:
            raise TracingSettingsError(
                f"OTEL_TRACES_EXPORTER names {name!r}, which no installed package "
                "provides (use otlp or console)"
            )
        exporter_class = next(iter(found)).load()
        exporters.append(exporter_class())
    return exporters


def _entry_point_name(name: str, environ: Mapping[str, str]) -> str:
    if name != "otlp":
        return name
    protocol = (
        environ.get(OTEL_EXPORTER_OTLP_TRACES_PROTOCOL)
        or environ.get(OTEL_EXPORTER_OTLP_PROTOCOL)
        or "http/protobuf"
    ).strip()
    if protocol not in OTLP_BY_PROTOCOL:
        raise TracingSettingsError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or grpc, got {protocol!r}"
        )
    return OTLP_BY_PROTOCOL[protocol]
