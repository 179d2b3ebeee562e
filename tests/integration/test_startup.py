"""Roles started at the same moment on a fresh PostgreSQL database all come up."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from service.runtime import Runtime
from service.strategies.registry import StrategyRegistry
from tests.conftest import create_database, drop_database, make_settings

pytestmark = pytest.mark.integration


def test_concurrent_startups_create_the_schema_once(tmp_path: Path) -> None:
    name = f"jobstream_start_{uuid.uuid4().hex[:8]}"
    settings = make_settings(tmp_path, create_database(name))
    errors: list[BaseException] = []
    started: list[Runtime] = []

    def start() -> None:
        try:
            started.append(Runtime(settings, registry=StrategyRegistry()))
        except BaseException as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    try:
        # Four: each holds about 14 connections, and the server allows 100 in all.
        threads = [threading.Thread(target=start) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        assert len(started) == 4
    finally:
        for runtime in started:
            runtime.stop()
        drop_database(name)
