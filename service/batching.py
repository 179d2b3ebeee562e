"""`batched`: Python 3.12's itertools.batched, for the 3.11 Jobstream runs on."""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of `size` items in order (the last may be shorter), read lazily."""
    source = iter(items)
    while batch := list(islice(source, size)):
        yield batch
