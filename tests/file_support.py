"""Test helpers for file storage: what a store holds, wherever it keeps it."""

from __future__ import annotations

from service.files.jetstream import JetStreamFileStorage
from service.files.local import LocalFileStorage
from service.files.storage import FileStorage


def leftovers(storage: FileStorage) -> list[str]:
    """Every file (local) or every stored byte (JetStream), committed or not."""
    if isinstance(storage, LocalFileStorage):
        return [str(p) for p in storage.root.rglob("*") if p.is_file()]
    assert isinstance(storage, JetStreamFileStorage)
    status = storage.store_status()
    return [f"{status.size} bytes"] if status.size else []
