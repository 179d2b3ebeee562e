"""OpenTelemetry tracing: off unless `OTEL_TRACES_EXPORTER` names an exporter.

Call sites test `tracing.enabled`, one boolean, and import `service.tracing.spans`
only when it is true: with tracing off no OpenTelemetry module is imported and no
span is made, so the request and job paths pay nothing more (docs/tracing.md).
"""

from __future__ import annotations

# Set by service.tracing.lifecycle (a process's bootstrap) or by a test's provider.
enabled = False
