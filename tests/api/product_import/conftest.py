"""Fixtures of the product-import API tests: every backend, the real strategies."""

from __future__ import annotations

from tests.api.strategy_backends import (  # noqa: F401 - fixtures used here
    admin,
    client,
    nats_url,
    runtime,
    settings,
)
