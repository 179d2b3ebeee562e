"""Which `JOBSTREAM_*` variables each `jobstream` command reads, for its `--help`.

Every command reads the logging pair; a command that opens the event store reads
where it is. tests/unit/service/test_command_help.py runs every `--help` and checks
these names against service/settings.py.
"""

from __future__ import annotations

import argparse

import msgspec

from service.settings import PREFIX, Settings

LOGS = ("log_level", "log_format")
STORE = ("data_dir", "database_url", "sqlite_synchronous")
NATS = (
    "nats_url", "nats_stream", "nats_subject_prefix", "nats_replicas",
    "stream_max_age_hours", "stream_max_bytes",
)  # fmt: skip
FILES = ("file_store", "file_bucket")
RETENTION = ("file_retention_hours", "upload_retention_hours")
JOBS = (
    "lease_seconds", "max_processing_attempts", "type_concurrency",
    "stuck_job_seconds",
)  # fmt: skip
READ_MODELS = ("read_your_writes_timeout", "read_model_poll_seconds")
HTTP = (
    "host", "port", "http_workers", "header_timeout_seconds", "jwt_secret",
    "cookie_secret", "session_ttl_seconds", "secure_cookies", "admin_cors",
    "login_failures_per_account", "login_failures_per_address",
    "login_failure_window_seconds", "login_hash_threads", "login_hash_queue",
    "login_hash_wait_seconds", "upload_max_bytes", "upload_max_request_bytes",
    "upload_max_parts", "download_url_ttl_seconds", "backend_url",
)  # fmt: skip
WORKER = ("worker_durable", "worker_concurrency", "max_deliveries")
AUDIT = (*LOGS, *STORE)

# Keyed by the command as typed after `jobstream`.
READS: dict[str, tuple[str, ...]] = {
    # Every role in one process: every setting.
    "serve": tuple(field.name for field in msgspec.structs.fields(Settings)),
    "api": (*LOGS, *STORE, *HTTP, *READ_MODELS, *FILES, "nats_url", "nats_replicas"),
    "projections": (*LOGS, *STORE, *READ_MODELS, "stuck_job_seconds", "nats_url"),
    "relay": (*LOGS, *STORE, *NATS, "relay_leadership_seconds"),
    "worker": (
        *LOGS, *STORE, *NATS, *WORKER, *FILES, *RETENTION, *JOBS, *READ_MODELS,
    ),
    "user": AUDIT,
    "user create": AUDIT,
    "history": AUDIT,
    "state": AUDIT,
    "verify": AUDIT,
    "events": (*AUDIT, *NATS),
    "events tail": (*LOGS, "nats_url", "nats_stream", "nats_subject_prefix"),
    "events export": AUDIT,
    "projections status": (*AUDIT, "nats_url"),
    "projections rebuild": AUDIT,
    "projections parked": AUDIT,
    "relay replay": (*AUDIT, "nats_url", "nats_replicas"),
}  # fmt: skip


def variable(field: str) -> str:
    return f"{PREFIX}{field.upper()}"


def epilog(command: str) -> str:
    fields = dict.fromkeys(READS[command])
    names = ", ".join(variable(field) for field in fields)
    text = f"Reads {names} (README.md, Configuration)."
    if "data_dir" in fields and not command.startswith(("serve", "api")):
        text += " Run it where the server runs, with the same variables."
    return text


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Every subcommand's parser, by the words after `jobstream`."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:  # noqa: SLF001 - argparse keeps them nowhere else
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            for name, sub in action.choices.items():
                prefix = parser.prog.removeprefix("jobstream").strip()
                key = f"{prefix} {name}".strip()
                found[key] = sub
                found.update(subcommands(sub))
    return found


def describe(parser: argparse.ArgumentParser) -> None:
    """Give every subcommand's `--help` the variables it reads (KeyError if unknown)."""
    for command, sub in subcommands(parser).items():
        sub.epilog = epilog(command)
