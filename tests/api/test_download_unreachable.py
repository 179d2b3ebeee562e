"""A download the object store cannot serve (NATS unreachable) answers 503, not 500."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from service.files.jetstream import JetStreamFileStorage
from service.settings import Settings
from tests.conftest import make_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded only: the object store is what is away, not the database."""
    return make_settings(tmp_path)


def test_a_download_from_an_unreachable_object_store_answers_503(
    client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on port 1: every connect is refused, as with NATS down. The
    # handlers' files service is the one whose storage goes away.
    unreachable = JetStreamFileStorage(["nats://127.0.0.1:1"], "files-away")
    monkeypatch.setattr(client.app.state.services.files, "storage", unreachable)
    try:
        response = client.get("/uploads/public/report.csv")
    finally:
        unreachable.close()

    assert response.status_code == 503, response.text
    assert response.json() == {
        "type": "unexpected_state",
        "message": "A service Jobstream depends on (the database or the file storage) "
        "is unreachable. Retry the request.",
    }
