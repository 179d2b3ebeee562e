"""Per-type concurrency limits: parsing, and counting slots."""

from __future__ import annotations

import pytest

from service.settings import Settings
from service.strategies.limits import TypeLimits, limits_of, parse_limits


def test_limits_are_parsed_from_the_setting() -> None:
    assert parse_limits("") == {}
    assert parse_limits("product-import=1, product-export=4") == {
        "product-import": 1,
        "product-export": 4,
    }
    for bad in ("product-import", "x=0", "x=two", "=3"[1:]):
        with pytest.raises(ValueError, match="JOBSTREAM_TYPE_CONCURRENCY"):
            parse_limits(bad)


def test_a_limited_type_gets_no_more_slots_than_its_limit() -> None:
    limits = TypeLimits({"import": 2})

    assert limits.try_acquire("import") and limits.try_acquire("import")
    assert not limits.try_acquire("import")
    assert all(limits.try_acquire("export") for _ in range(10))  # unlisted: unlimited
    limits.release("import")
    assert limits.try_acquire("import")


def test_exports_and_imports_are_limited_unless_the_setting_names_them() -> None:
    assert limits_of("") == {"product-export": 4, "product-import": 4}
    assert limits_of("product-export=8, bench-noop=2") == {
        "product-export": 8,
        "product-import": 4,
        "bench-noop": 2,
    }


def test_the_engines_take_the_default_limits_from_unset_settings() -> None:
    limits = TypeLimits(limits_of(Settings(jwt_secret="j" * 32).type_concurrency))

    assert all(limits.try_acquire("product-export") for _ in range(4))
    assert not limits.try_acquire("product-export")
    assert all(limits.try_acquire("bench-noop") for _ in range(100))
