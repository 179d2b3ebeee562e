"""The spans of a job's trace, their names and attributes (docs/tracing.md).

Imported only when tracing is on. One trace per job: the create request's server
span, the event-store save inside it (whose context is stored on the job's
`batch.created` event as a W3C `traceparent`), the relay's publish of that event
(the context travels in the NATS message's `traceparent` header), and each worker
step, a child of the publish or, where no header came, of the stored context.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

import service.tracing

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from opentelemetry.trace import Span, Tracer, TracerProvider

TRACER_NAME = "jobstream"
TRACEPARENT = "traceparent"  # W3C Trace Context: the header and the stored field
JOB_ID = "batch_job.id"
JOB_TYPE = "batch_job.type"
JOB_STEP = "batch_job.step"
CREATE_ROUTE = "/admin/batch-jobs"

_propagator = TraceContextTextMapPropagator()


class _Current:
    """The tracer spans come from: the process's provider's, or a no-op one."""

    tracer: Tracer = trace.NoOpTracer()


def use(provider: TracerProvider) -> None:
    """Make spans with `provider` from now on (the bootstrap's, or a test's)."""
    _Current.tracer = provider.get_tracer(TRACER_NAME)
    service.tracing.enabled = True


def stop_using() -> None:
    service.tracing.enabled = False
    _Current.tracer = trace.NoOpTracer()


def _parent(trace_parent: str | None) -> Context:
    """The context a `traceparent` names; an empty one (a new trace) if none."""
    if not trace_parent:
        return Context()
    return _propagator.extract({TRACEPARENT: trace_parent})


def headers_of(span: Span) -> dict[str, str]:
    """The W3C headers (`traceparent`, `tracestate`) that carry `span` on."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, context=trace.set_span_in_context(span))
    return carrier


@contextmanager
def http_create(headers: Mapping[str, str]) -> Iterator[Span]:
    """The server span of a create request, child of the caller's `traceparent`."""
    with _Current.tracer.start_as_current_span(
        f"POST {CREATE_ROUTE}",
        context=_propagator.extract(headers),
        kind=SpanKind.SERVER,
        attributes={"http.request.method": "POST", "http.route": CREATE_ROUTE},
    ) as span:
        yield span


@contextmanager
def saving_new_job(batch_type: str) -> Iterator[Span]:
    """The event-store save of a new job, in whatever span is current."""
    with _Current.tracer.start_as_current_span(
        "batch_job.save",
        attributes={JOB_TYPE: batch_type, "batch_job.event": "batch.created"},
    ) as span:
        yield span


def trace_parent_of(span: Span) -> str | None:
    """What to store with the job so that later spans join its trace."""
    return headers_of(span).get(TRACEPARENT)


def describe_job(span: Span, job_id: str, batch_type: str) -> None:
    span.set_attribute(JOB_ID, job_id)
    span.set_attribute(JOB_TYPE, batch_type)


@contextmanager
def publishing(
    trace_parent: str, subject: str, job_id: str, batch_type: str
) -> Iterator[dict[str, str]]:
    """The relay's publish of a job's event; yields the headers to send with it."""
    with _Current.tracer.start_as_current_span(
        f"publish {subject}",
        context=_parent(trace_parent),
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "nats",
            "messaging.operation.type": "publish",
            "messaging.destination.name": subject,
            JOB_ID: job_id,
            JOB_TYPE: batch_type,
        },
    ) as span:
        yield headers_of(span)


@contextmanager
def running_step(
    step: str, job_id: str, batch_type: str | None, trace_parent: str | None
) -> Iterator[Span]:
    """A worker's step of a job (`batch_job.pre_process`, `batch_job.process`)."""
    attributes = {JOB_ID: job_id, JOB_STEP: step}
    if batch_type is not None:
        attributes[JOB_TYPE] = batch_type
    with _Current.tracer.start_as_current_span(
        f"batch_job.{step}",
        context=_parent(trace_parent),
        kind=SpanKind.CONSUMER,
        attributes=attributes,
    ) as span:
        yield span


def step_failed(message: str) -> None:
    """The current step failed the job: mark its span so."""
    trace.get_current_span().set_status(Status(StatusCode.ERROR, message))
