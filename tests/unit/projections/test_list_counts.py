"""The PostgreSQL list's count is kept while the view's known position stands still."""

from __future__ import annotations

from typing import Any

from projections.batch_jobs.postgres_async import AsyncPostgresBatchJobsReads
from projections.batch_jobs.query import BatchJobQuery
from projections.batched_lookups import BatchedLookups

COUNT = ("SELECT COUNT(*) AS n FROM rows WHERE created_by = %s", ["usr_1"])
PAGE = ("SELECT document FROM rows WHERE created_by = %s LIMIT %s", ["usr_1", 10])
POSITION: tuple[str, list[Any]] = ("SELECT MAX(notification_id) AS n FROM tracking", [])


class FakeView:
    """The statements a PostgresBatchJobsView would build, whatever the query."""

    def list_reads(self, query: BatchJobQuery) -> tuple[Any, Any]:
        return COUNT, PAGE

    def position_read(self) -> Any:
        return POSITION


class FakeReads:
    """Answers each statement and records what was sent, a round trip a list."""

    def __init__(self) -> None:
        self.sent: list[list[str]] = []
        self.count = 3
        self.position = 7

    def _answer(self, sql: str) -> list[Any]:
        if sql == COUNT[0]:
            return [{"n": self.count}]
        if sql == POSITION[0]:
            return [{"n": self.position}]
        return [{"document": '{"id":"batch_1"}'}]

    async def all(self, sql: str, params: Any) -> list[Any]:
        self.sent.append([sql])
        return self._answer(sql)

    async def each(self, *statements: tuple[str, Any]) -> list[list[Any]]:
        self.sent.append([sql for sql, _ in statements])
        return [self._answer(sql) for sql, _ in statements]


def reads_with(
    known: list[int | None],
) -> tuple[AsyncPostgresBatchJobsReads, FakeReads]:
    reads = AsyncPostgresBatchJobsReads.__new__(AsyncPostgresBatchJobsReads)
    fake = FakeReads()
    reads._view = FakeView()  # type: ignore[assignment]
    reads._reads = fake  # type: ignore[assignment]
    reads._counts = {}
    reads._known_position = lambda: known[0]
    reads._pages = BatchedLookups(reads._pages_of, in_flight=2, max_batch=32)
    return reads, fake


QUERY = BatchJobQuery(created_by="usr_1")


async def test_a_known_position_sends_the_count_once_then_the_page_alone() -> None:
    reads, sent = reads_with([5])

    first = await reads.list_documents(QUERY)
    sent.count = 4  # the rows changed, but the position known here did not move yet
    second = await reads.list_documents(QUERY)

    assert first == second == (['{"id":"batch_1"}'], 3)
    # The page first in a pipeline: the rows' lock before the counts' (lock order).
    assert sent.sent == [[PAGE[0], COUNT[0]], [PAGE[0]]]


async def test_the_count_is_asked_again_once_the_known_position_moves() -> None:
    known: list[int | None] = [5]
    reads, sent = reads_with(known)
    await reads.list_documents(QUERY)
    sent.count = 4

    known[0] = 6
    listed = await reads.list_documents(QUERY)

    assert listed == (['{"id":"batch_1"}'], 4)
    assert sent.sent[-1] == [PAGE[0], COUNT[0]]


async def test_without_a_known_position_the_view_tells_its_own_beside_the_page() -> (
    None
):
    reads, sent = reads_with([None])

    await reads.list_documents(QUERY)
    await reads.list_documents(QUERY)  # same view position: the count is kept
    sent.position = 8
    sent.count = 9
    moved = await reads.list_documents(QUERY)

    assert moved == (['{"id":"batch_1"}'], 9)
    assert sent.sent == [
        [PAGE[0], POSITION[0]],
        [COUNT[0]],
        [PAGE[0], POSITION[0]],
        [PAGE[0], POSITION[0]],
        [COUNT[0]],
    ]
