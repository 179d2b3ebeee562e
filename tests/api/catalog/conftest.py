"""Catalog API tests: each PostgreSQL run gets a database of its own.

The catalog is global (not per user, like batch jobs), so tests that count products
or regions must not see other tests' catalogs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.settings import Settings
from tests.conftest import create_database, drop_database, make_settings


@pytest.fixture(
    params=["embedded", pytest.param("postgres", marks=pytest.mark.integration)]
)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """One test body, two backends; PostgreSQL in a fresh database."""
    if request.param == "embedded":
        yield make_settings(tmp_path)
        return
    name = f"jobstream_catalog_{uuid.uuid4().hex[:12]}"
    url = create_database(name)
    try:
        yield make_settings(tmp_path, url)
    finally:
        drop_database(name)
