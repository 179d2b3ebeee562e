"""Lookups that arrive together go as one read; a lone one goes at once."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from projections.batched_lookups import BatchedLookups

ROWS = {f"job_{n}": f"document {n}" for n in range(100)}


class FakeView:
    """Records each read's keys; a read waits for `release` when it is given."""

    def __init__(self) -> None:
        self.reads: list[list[str]] = []
        self.release: asyncio.Event | None = None
        self.fail_next = False

    async def fetch(self, keys: list[str]) -> Mapping[str, str]:
        self.reads.append(keys)
        if self.release is not None:
            await self.release.wait()
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("the database went away")
        return {key: ROWS[key] for key in keys if key in ROWS}


def lookups(
    view: FakeView, in_flight: int = 1, max_batch: int = 64
) -> BatchedLookups[str, str]:
    return BatchedLookups(view.fetch, in_flight=in_flight, max_batch=max_batch)


async def test_a_lone_lookup_is_one_read_of_its_key() -> None:
    view = FakeView()

    found = await lookups(view).get("job_7")

    assert found == "document 7"
    assert view.reads == [["job_7"]]


async def test_a_key_the_read_does_not_find_is_none() -> None:
    assert await lookups(FakeView()).get("job_missing") is None


async def test_lookups_asked_together_share_one_read() -> None:
    view = FakeView()
    batched = lookups(view)

    found = await asyncio.gather(*(batched.get(f"job_{n}") for n in range(10)))

    assert found == [f"document {n}" for n in range(10)]
    assert view.reads == [[f"job_{n}" for n in range(10)]]
    assert (batched.batches, batched.lookups) == (1, 10)


async def test_the_same_key_asked_twice_is_read_once_and_answers_both() -> None:
    view = FakeView()
    batched = lookups(view)

    found = await asyncio.gather(batched.get("job_3"), batched.get("job_3"))

    assert list(found) == ["document 3", "document 3"]
    assert view.reads == [["job_3"]]


async def test_lookups_asked_while_reads_are_out_wait_and_go_together() -> None:
    view = FakeView()
    view.release = asyncio.Event()
    batched = lookups(view, in_flight=1)
    first = asyncio.ensure_future(batched.get("job_1"))
    await asyncio.sleep(0)  # the first read is out
    await asyncio.sleep(0)
    later = [asyncio.ensure_future(batched.get(f"job_{n}")) for n in (2, 3, 4)]
    await asyncio.sleep(0.01)
    assert view.reads == [["job_1"]]  # the others wait for the read out

    view.release.set()
    found = await asyncio.gather(first, *later)

    assert found == ["document 1", "document 2", "document 3", "document 4"]
    assert view.reads == [["job_1"], ["job_2", "job_3", "job_4"]]


async def test_in_flight_reads_go_out_side_by_side() -> None:
    view = FakeView()
    view.release = asyncio.Event()
    batched = lookups(view, in_flight=2)
    first = asyncio.ensure_future(batched.get("job_1"))
    await asyncio.sleep(0.01)
    second = asyncio.ensure_future(batched.get("job_2"))
    await asyncio.sleep(0.01)

    assert view.reads == [["job_1"], ["job_2"]]  # the second did not wait
    view.release.set()
    assert list(await asyncio.gather(first, second)) == ["document 1", "document 2"]


async def test_a_batch_holds_at_most_max_batch_keys() -> None:
    view = FakeView()
    batched = lookups(view, in_flight=1, max_batch=4)

    found = await asyncio.gather(*(batched.get(f"job_{n}") for n in range(10)))

    assert found == [f"document {n}" for n in range(10)]
    assert [len(keys) for keys in view.reads] == [4, 4, 2]


async def test_a_failed_read_fails_its_lookups_and_the_next_read_goes() -> None:
    view = FakeView()
    view.fail_next = True
    batched = lookups(view)

    failed = await asyncio.gather(
        batched.get("job_1"), batched.get("job_2"), return_exceptions=True
    )
    found = await batched.get("job_3")

    assert [type(error) for error in failed] == [ConnectionError, ConnectionError]
    assert found == "document 3"


async def test_a_lookup_given_up_is_not_read_and_the_others_are_answered() -> None:
    view = FakeView()
    view.release = asyncio.Event()
    batched = lookups(view, in_flight=1)
    first = asyncio.ensure_future(batched.get("job_1"))
    await asyncio.sleep(0.01)
    given_up = asyncio.ensure_future(batched.get("job_2"))
    kept = asyncio.ensure_future(batched.get("job_3"))
    await asyncio.sleep(0)
    given_up.cancel()

    view.release.set()

    assert list(await asyncio.gather(first, kept)) == ["document 1", "document 3"]
    assert view.reads == [["job_1"], ["job_3"]]
    with pytest.raises(asyncio.CancelledError):
        await given_up
