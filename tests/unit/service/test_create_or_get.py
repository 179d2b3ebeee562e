"""Stream and bucket creation race-free: a lost race or a timeout looks again."""

from __future__ import annotations

import asyncio

import nats.errors
import pytest
from nats.js.errors import APIError, NotFoundError

from service.nats_client import STREAM_NAME_IN_USE, create_or_get


class Broker:
    """Answers `get` and `create` from scripts; records the calls (a fake)."""

    def __init__(self, gets: list[object], creates: list[object]) -> None:
        self.gets, self.creates = gets, creates
        self.calls: list[str] = []

    async def get(self) -> str:
        return self._answer("get", self.gets)

    async def create(self) -> str:
        return self._answer("create", self.creates)

    def _answer(self, call: str, script: list[object]) -> str:
        self.calls.append(call)
        answer = script.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        assert isinstance(answer, str)
        return answer


def run(broker: Broker) -> str:
    return asyncio.run(
        create_or_get(broker.get, broker.create, missing=NotFoundError, what="t")
    )


def test_an_existing_one_is_taken_as_it_is() -> None:
    broker = Broker(gets=["theirs"], creates=[])
    assert run(broker) == "theirs"
    assert broker.calls == ["get"]


def test_a_missing_one_is_created() -> None:
    broker = Broker(gets=[NotFoundError()], creates=["ours"])
    assert run(broker) == "ours"


def test_losing_the_race_to_another_process_takes_theirs() -> None:
    in_use = APIError(code=400, err_code=STREAM_NAME_IN_USE, description="in use")
    broker = Broker(gets=[NotFoundError(), "theirs"], creates=[in_use])
    assert run(broker) == "theirs"
    assert broker.calls == ["get", "create", "get"]


def test_a_create_that_timed_out_is_looked_up_again() -> None:
    # A replicated stream placed during a leader election: it may exist after all.
    broker = Broker(
        gets=[NotFoundError(), "created"], creates=[nats.errors.TimeoutError()]
    )
    assert run(broker) == "created"
    assert broker.calls == ["get", "create", "get"]


def test_any_other_error_is_raised_at_once() -> None:
    refused = APIError(code=400, err_code=10052, description="invalid config")
    broker = Broker(gets=[NotFoundError()], creates=[refused])
    with pytest.raises(APIError) as raised:
        run(broker)
    assert raised.value is refused
    assert broker.calls == ["get", "create"]
