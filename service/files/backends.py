"""Chooses the file storage the settings ask for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from service import data_dir
from service.files.local import LocalFileStorage
from service.settings import nats_servers

if TYPE_CHECKING:
    from service.files.storage import FileStorage
    from service.settings import Settings


def file_store_kind(settings: Settings) -> str:
    """`JOBSTREAM_FILE_STORE`, or NATS whenever a NATS URL is set."""
    if settings.file_store is not None:
        return settings.file_store
    return "nats" if settings.nats_url is not None else "local"


def build_file_storage(settings: Settings) -> FileStorage:
    if file_store_kind(settings) == "local":
        return LocalFileStorage(data_dir.prepare(settings.data_path) / "uploads")
    if settings.nats_url is None:
        raise ValueError("JOBSTREAM_FILE_STORE=nats needs JOBSTREAM_NATS_URL")
    from service.files.jetstream import JetStreamFileStorage  # noqa: PLC0415 - NATS only

    return JetStreamFileStorage(
        nats_servers(settings.nats_url), settings.file_bucket, settings.nats_replicas
    )
