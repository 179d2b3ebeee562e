"""Property-based fuzz of the list endpoints' query strings: no query gets a 5xx.

The OpenAPI fuzz draws what the document describes; Medusa's qs syntax (brackets,
indexes, repeated keys) and numbers as text are where the parsers broke, so this fuzz
builds query strings from those pieces: known names and odd ones, bracket segments
with ASCII and non-ASCII digits, numbers of any size and shape, NUL and other text.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from tests.support import Caller

LISTS = (
    "/admin/batch-jobs", "/admin/products", "/admin/regions", "/admin/collections",
    "/admin/sales-channels", "/admin/product-categories", "/admin/shipping-profiles",
)  # fmt: skip
NAMES = (
    "limit", "offset", "fields", "expand", "order", "id", "type", "q", "created_at",
    "updated_at", "completed_at", "status", "handle", "tags", "x",
)  # fmt: skip
DIGITS = "0123456789¹²³٣߂"  # ASCII, superscript, Arabic-Indic and NKo digits

numbers = st.one_of(
    st.integers().map(str),
    st.integers(min_value=2**53 - 2, max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet=DIGITS + "eE+-.", max_size=30),
    st.just("9" * 5000),
)
texts = st.text(max_size=20)  # any code point, NUL included
segments = st.one_of(
    st.just(""), st.text(alphabet=DIGITS, min_size=1, max_size=20), st.sampled_from(
        ("gte", "lt", "0", "1e3")
    ), texts,
)  # fmt: skip
keys = st.builds(
    lambda name, brackets: name + "".join(f"[{b}]" for b in brackets),
    st.one_of(st.sampled_from(NAMES), texts),
    st.lists(segments, max_size=3),
)
queries = st.lists(st.tuples(keys, st.one_of(numbers, texts)), max_size=5).map(
    lambda pairs: "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)
)


def test_no_query_string_gets_a_server_error(
    client: TestClient[Any], admin: Caller
) -> None:
    found: list[str] = []

    @given(path=st.sampled_from(LISTS), query=queries)
    @settings(
        max_examples=400, deadline=None, derandomize=True, database=None,
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    def fuzz(path: str, query: str) -> None:
        response = client.get(f"{path}?{query}", headers=admin.headers)
        if response.status_code >= 500 and len(found) < 5:
            found.append(f"GET {path}?{query[:300]} -> {response.status_code}")

    fuzz()

    assert found == []
