"""Entity ids: Medusa's `<prefix>_<ULID>`, with the ULID's time prefix and randomness."""

from __future__ import annotations

import re

from domain.ids import new_id, new_ulid

CROCKFORD_ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


def test_a_ulid_is_26_crockford_characters_with_the_time_first() -> None:
    assert new_ulid(now_ms=0)[:10] == "0000000000"
    assert new_ulid(now_ms=1)[:10] == "0000000001"
    # The ULID spec's own example time: 1469918176385 ms is 01ARYZ6S41.
    assert new_ulid(now_ms=1_469_918_176_385)[:10] == "01ARYZ6S41"
    assert new_ulid(now_ms=2**48 - 1)[:10] == "7ZZZZZZZZZ"
    assert CROCKFORD_ULID.fullmatch(new_ulid())


def test_ids_are_unique_and_sort_by_time() -> None:
    ids = [new_ulid(now_ms=1_000 + n // 100) for n in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert [i[:10] for i in ids] == sorted(i[:10] for i in ids)
    assert len({i[10:] for i in ids}) == len(ids)  # the random part differs


def test_an_id_has_its_prefix() -> None:
    assert re.fullmatch(r"prod_[0-9A-HJKMNP-TV-Z]{26}", new_id("prod"))
