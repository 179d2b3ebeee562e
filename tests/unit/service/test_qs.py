"""The query-string parser behaves like qs.parse plus Medusa's normalizeQuery."""

from __future__ import annotations

import pytest

from service.http import qs


@pytest.mark.parametrize(
    ("query", "parsed"),
    [
        ("", {}),
        ("limit=10&offset=0", {"limit": "10", "offset": "0"}),
        ("type[]=product-export", {"type": ["product-export"]}),
        ("type[]=a&type[]=b", {"type": ["a", "b"]}),
        ("type[0]=a&type[1]=b", {"type": ["a", "b"]}),
        ("type[5]=a", {"type": ["a"]}),  # sparse arrays are compacted
        ("type=a&type=b", {"type": ["a", "b"]}),
        (
            "type[]=a,b",
            {"type": ["a", "b"]},
        ),  # normalizeQuery splits one-element arrays
        ("created_at[gte]=2024-01-01", {"created_at": {"gte": "2024-01-01"}}),
        (
            "created_at[gte]=1&created_at[lt]=2",
            {"created_at": {"gte": "1", "lt": "2"}},
        ),
        ("completed_at=null", {"completed_at": "null"}),
        ("q=a+b%20c", {"q": "a b c"}),
        ("created_at%5Bgte%5D=5", {"created_at": {"gte": "5"}}),
        ("flag", {"flag": ""}),
        (
            "a[b][c][d][e][f][g]=1",
            {"a": {"b": {"c": {"d": {"e": {"f": {"[g]": "1"}}}}}}},
        ),
    ],
)
def test_parse(query: str, parsed: dict[str, object]) -> None:
    assert qs.parse(query) == parsed


def test_a_name_inside_an_array_turns_it_into_an_object() -> None:
    assert qs.parse("a[0]=x&a[b]=y") == {"a": {"0": "x", "b": "y"}}


@pytest.mark.parametrize(
    ("query", "parsed"),
    [
        # qs takes `[n]` as an index only when String(parseInt(n)) === n.
        ("x[¹]=1", {"x": {"¹": "1"}}),
        ("x[٣]=1", {"x": {"٣": "1"}}),
        ("x[01]=1", {"x": {"01": "1"}}),
        ("x[" + "1" * 5000 + "]=1", {"x": {"1" * 5000: "1"}}),
        ("x[2]=a&x[0]=b", {"x": ["b", "a"]}),
    ],
)
def test_only_plain_ascii_numbers_are_array_indexes(
    query: str, parsed: dict[str, object]
) -> None:
    assert qs.parse(query) == parsed
