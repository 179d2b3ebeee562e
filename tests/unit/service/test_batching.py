"""batched: lists of n in order, the last one shorter, nothing for nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from service.batching import batched

if TYPE_CHECKING:
    from collections.abc import Iterator


def test_items_come_in_lists_of_the_size_with_a_shorter_last() -> None:
    assert list(batched(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batched(range(6), 3)) == [[0, 1, 2], [3, 4, 5]]
    assert list(batched([], 3)) == []


def test_items_are_read_only_as_the_batches_are_taken() -> None:
    read: list[int] = []

    def source() -> Iterator[int]:
        for n in range(10):
            read.append(n)
            yield n

    batches = batched(source(), 4)
    assert next(batches) == [0, 1, 2, 3]
    assert read == [0, 1, 2, 3]
