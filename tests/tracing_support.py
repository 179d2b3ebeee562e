"""Spans recorded in memory by the SDK's own exporter, for the tracing tests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

from service.tracing import spans

# A caller's W3C traceparent: version 00, trace id, parent span id, sampled.
CALLER_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN_ID = "00f067aa0ba902b7"
CALLER_TRACEPARENT = f"00-{CALLER_TRACE_ID}-{CALLER_SPAN_ID}-01"


@contextmanager
def recording_spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on, every span exported at its end into the exporter; off after."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    spans.use(provider)
    try:
        yield exporter
    finally:
        spans.stop_using()
        provider.shutdown()


def by_name(finished: Sequence[ReadableSpan]) -> dict[str, list[ReadableSpan]]:
    named: dict[str, list[ReadableSpan]] = {}
    for span in finished:
        named.setdefault(span.name, []).append(span)
    return named


def only(finished: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    found = by_name(finished).get(name, [])
    assert len(found) == 1, [s.name for s in finished]
    return found[0]


def trace_id(span: ReadableSpan) -> str:
    return f"{span.context.trace_id:032x}"


def span_id(span: ReadableSpan) -> str:
    return f"{span.context.span_id:016x}"


def parent_id(span: ReadableSpan) -> str | None:
    return None if span.parent is None else f"{span.parent.span_id:016x}"
