"""Every JOBSTREAM_* value is checked on its own: a bad one is named, with what it must be."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.logs import configure_logging
from service.settings import load_settings
from service.settings_checks import SettingsError


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PORT", "abc", "JOBSTREAM_PORT must be an integer, got 'abc'"),
        ("PORT", "70000", "JOBSTREAM_PORT must be from 0 to 65535, got 70000"),
        ("PORT", "-1", "JOBSTREAM_PORT must be from 0 to 65535, got -1"),
        ("LOG_LEVEL", "verbose", ("JOBSTREAM_LOG_LEVEL must be one of debug, info, "
         "warning, error, critical, got 'verbose'")),
        ("LOG_FORMAT", "xml", ("JOBSTREAM_LOG_FORMAT must be one of auto, json, console, "
         "got 'xml'")),
        ("FILE_STORE", "s3", "JOBSTREAM_FILE_STORE must be one of local, nats, got 's3'"),
        ("SECURE_COOKIES", "maybe", ("JOBSTREAM_SECURE_COOKIES must be true or false "
         "(or 1 or 0), got 'maybe'")),
        ("READ_YOUR_WRITES_TIMEOUT", "soon", ("JOBSTREAM_READ_YOUR_WRITES_TIMEOUT must be a "
         "number, got 'soon'")),
        ("READ_YOUR_WRITES_TIMEOUT", "0", ("JOBSTREAM_READ_YOUR_WRITES_TIMEOUT must be a "
         "positive number, got 0.0")),
        ("LEASE_SECONDS", "nan", ("JOBSTREAM_LEASE_SECONDS must be a positive number, "
         "got nan")),
        ("STUCK_JOB_SECONDS", "inf", ("JOBSTREAM_STUCK_JOB_SECONDS must be a positive "
         "number, got inf")),
        ("PROCESSOR_THREADS", "0", "JOBSTREAM_PROCESSOR_THREADS must be 1 or more, got 0"),
        ("MAX_PROCESSING_ATTEMPTS", "0", ("JOBSTREAM_MAX_PROCESSING_ATTEMPTS must be 1 or "
         "more, got 0")),
        ("WORKER_CONCURRENCY", "-2", ("JOBSTREAM_WORKER_CONCURRENCY must be 1 or more, "
         "got -2")),
        ("SESSION_TTL_SECONDS", "0", ("JOBSTREAM_SESSION_TTL_SECONDS must be 1 or more, "
         "got 0")),
        ("UPLOAD_MAX_BYTES", "0", "JOBSTREAM_UPLOAD_MAX_BYTES must be 1 or more, got 0"),
        ("DOWNLOAD_URL_TTL_SECONDS", "0", ("JOBSTREAM_DOWNLOAD_URL_TTL_SECONDS must be 1 "
         "or more, got 0")),
        ("NATS_REPLICAS", "7", "JOBSTREAM_NATS_REPLICAS must be from 1 to 5, got 7"),
        ("MAX_DELIVERIES", "0", ("JOBSTREAM_MAX_DELIVERIES must be -1 (no limit) or 1 or "
         "more, got 0")),
        ("STREAM_MAX_AGE_HOURS", "-1", ("JOBSTREAM_STREAM_MAX_AGE_HOURS must be from 0 "
         "(no limit) to 876000 hours, got -1.0")),
        ("STREAM_MAX_AGE_HOURS", "1e9", ("JOBSTREAM_STREAM_MAX_AGE_HOURS must be from 0 "
         "(no limit) to 876000 hours, got 1000000000.0")),
        ("STREAM_MAX_AGE_HOURS", "a day", ("JOBSTREAM_STREAM_MAX_AGE_HOURS must be a "
         "number, got 'a day'")),
        ("STREAM_MAX_BYTES", "1GB", ("JOBSTREAM_STREAM_MAX_BYTES must be an integer, "
         "got '1GB'")),
        ("STREAM_MAX_BYTES", "-5", ("JOBSTREAM_STREAM_MAX_BYTES must be 0 (no limit) or "
         "more, got -5")),
        ("FILE_RETENTION_HOURS", "-1", ("JOBSTREAM_FILE_RETENTION_HOURS must be from 0 "
         "(kept for ever) to 876000 hours, got -1.0")),
        ("FILE_RETENTION_HOURS", "nan", ("JOBSTREAM_FILE_RETENTION_HOURS must be from 0 "
         "(kept for ever) to 876000 hours, got nan")),
        ("UPLOAD_RETENTION_HOURS", "soon", ("JOBSTREAM_UPLOAD_RETENTION_HOURS must be a "
         "number, got 'soon'")),
        ("JWT_SECRET", "short", "JOBSTREAM_JWT_SECRET must be at least 32 bytes, got 5"),
        ("COOKIE_SECRET", "short", ("JOBSTREAM_COOKIE_SECRET must be at least 32 bytes, "
         "got 5")),
        ("DATABASE_URL", "mysql://u:pw@db/x", ("JOBSTREAM_DATABASE_URL must start with "
         "postgresql:// or postgres://, got mysql://")),
        ("DATABASE_URL", "db.local/jobs", ("JOBSTREAM_DATABASE_URL must start with "
         "postgresql:// or postgres://, got no scheme")),
        ("DATABASE_URL", "postgresql://u:pw@db:port/x", ("JOBSTREAM_DATABASE_URL has a "
         "port that is not from 0 to 65535: 'db:port'")),
        ("NATS_URL", "http://n:4222", ("JOBSTREAM_NATS_URL must start with nats://, tls://, "
         "ws:// or wss://, got http://")),
        ("NATS_URL", " , ", "JOBSTREAM_NATS_URL names no server"),
        ("TYPE_CONCURRENCY", "product-import", ("JOBSTREAM_TYPE_CONCURRENCY: expected "
         "type=N (N >= 1), got 'product-import'")),
        ("BACKEND_URL", "api.shop.io", ("JOBSTREAM_BACKEND_URL must start with https:// or "
         "http://, got no scheme")),
        ("ADMIN_CORS", "http://a, /(/", ("JOBSTREAM_ADMIN_CORS: '/(/' is not a regular "
         "expression (missing ), unterminated subpattern at position 0)")),
        ("HOST", "a\x00b", "JOBSTREAM_HOST contains U+0000 (NUL)"),
        ("ADMIN_CORS", "http://\udcff", "JOBSTREAM_ADMIN_CORS is not valid UTF-8"),
    ],
)  # fmt: skip
def test_a_bad_value_is_named_with_what_it_must_be(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({f"JOBSTREAM_{variable}": value})

    assert str(refused.value) == message
    assert "pw" not in str(refused.value)  # a URL's password is never echoed


def test_values_at_the_edges_of_their_ranges_are_taken() -> None:
    settings = load_settings(
        {
            "JOBSTREAM_PORT": "0",  # the OS picks one; `serve` logs which
            "JOBSTREAM_LOG_LEVEL": "WARNING",
            "JOBSTREAM_MAX_DELIVERIES": "-1",
            "JOBSTREAM_NATS_REPLICAS": "5",
            "JOBSTREAM_NATS_URL": "nats://a:4222, tls://b:4222",
            "JOBSTREAM_FILE_STORE": "nats",
            "JOBSTREAM_DATABASE_URL": "postgres://db/jobs",
            "JOBSTREAM_JWT_SECRET": "s" * 32,
        }
    )

    assert (settings.port, settings.log_level, settings.max_deliveries) == (
        0,
        "WARNING",
        -1,
    )


def test_retention_settings_take_their_edges_and_default_as_documented() -> None:
    defaults = load_settings({})
    edges = load_settings(
        {
            "JOBSTREAM_STREAM_MAX_AGE_HOURS": "0",
            "JOBSTREAM_STREAM_MAX_BYTES": "0",
            "JOBSTREAM_FILE_RETENTION_HOURS": "0",
            "JOBSTREAM_UPLOAD_RETENTION_HOURS": "0.5",
        }
    )

    assert (defaults.stream_max_age_hours, defaults.stream_max_bytes) == (None, None)
    assert (defaults.file_retention_hours, defaults.upload_retention_hours) == (168, 24)
    assert (edges.stream_max_age_hours, edges.stream_max_bytes) == (0, 0)
    assert (edges.file_retention_hours, edges.upload_retention_hours) == (0, 0.5)


def test_a_nats_file_store_needs_a_nats_url() -> None:
    with pytest.raises(SettingsError, match="JOBSTREAM_FILE_STORE=nats needs"):
        load_settings({"JOBSTREAM_FILE_STORE": "nats"})


def test_a_data_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "var").write_text("")

    with pytest.raises(SettingsError, match="JOBSTREAM_DATA_DIR is not a directory"):
        load_settings({"JOBSTREAM_DATA_DIR": str(tmp_path / "var")})


def test_configure_logging_names_an_unknown_level() -> None:
    with pytest.raises(ValueError, match=r"log level must be debug, .*: 'verbose'"):
        configure_logging("verbose")
