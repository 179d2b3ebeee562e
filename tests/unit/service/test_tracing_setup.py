"""Tracing's switch and set-up: off unless OTEL_TRACES_EXPORTER names an exporter."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import ConsoleSpanExporter

import service.tracing
from service.settings_checks import SettingsError
from service.tracing import lifecycle
from service.tracing.config import wanted
from service.tracing.provider import span_exporters

ROOT = Path(__file__).parents[3]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, False),
        ({"OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_TRACES_EXPORTER": " None "}, False),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp,console"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "false"}, True),
        ({"OTEL_SERVICE_NAME": "jobs"}, False),  # configured, but nowhere to export
    ],
)
def test_tracing_is_wanted_only_when_an_exporter_is_named(
    environ: dict[str, str], expected: bool
) -> None:
    assert wanted(environ) is expected


def test_otlp_is_sent_over_http_unless_told_otherwise() -> None:
    exporters = span_exporters({"OTEL_TRACES_EXPORTER": "otlp,console"})

    assert [type(e) for e in exporters] == [OTLPSpanExporter, ConsoleSpanExporter]
    for exporter in exporters:
        exporter.shutdown()


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"OTEL_TRACES_EXPORTER": "zipkin"},
            "OTEL_TRACES_EXPORTER names 'zipkin', which no installed package provides",
        ),
        (
            {
                "OTEL_TRACES_EXPORTER": "otlp",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
            },
            "OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or grpc, got 'http/json'",
        ),
        (
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
            "OTEL_TRACES_EXPORTER names 'otlp', which no installed package provides",
        ),
    ],
)
def test_an_exporter_that_is_not_there_is_a_settings_error(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        span_exporters(environ)


def tracing_on() -> bool:
    return service.tracing.enabled


def test_the_last_holder_turns_tracing_off() -> None:
    environ = {"OTEL_TRACES_EXPORTER": "console"}
    assert lifecycle.acquire({}) is False
    assert tracing_on() is False

    assert lifecycle.acquire(environ) is True
    assert lifecycle.acquire(environ) is True
    assert tracing_on() is True
    lifecycle.release()
    assert tracing_on() is True  # one holder left
    lifecycle.release()
    assert tracing_on() is False


PROBE = textwrap.dedent(
    """
    import json, sys
    from domain.strategies import BatchJobDraft
    from service.bootstrap.process import Bootstrap
    from service.settings import Settings
    import service.engine.embedded, service.engine.jetstream
    import service.http.app, service.messaging.relay

    bootstrap = Bootstrap(Settings(data_dir=sys.argv[1]))
    bootstrap.app.create_batch_job(BatchJobDraft(type="t", context={}), "usr_1")
    bootstrap.close()
    print(json.dumps(sorted(m for m in sys.modules if m.startswith("opentelemetry"))))
    """
)


def test_with_tracing_off_no_opentelemetry_module_is_imported(tmp_path: Path) -> None:
    """A process that builds its parts, creates a job and closes, tracing off."""
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )

    assert json.loads(probe.stdout.splitlines()[-1]) == []
