"""Transient broker and database errors are retried with backoff; others are not."""

from __future__ import annotations

import asyncio

import eventsourcing.persistence
import nats.errors
import nats.js.errors
import psycopg
import pytest

from service.ports import ReadModelLagError
from service.retry import (
    Backoff,
    TransientError,
    is_transient,
    retry_transient,
    retry_transient_async,
)

FAST = Backoff(first=0.001, most=0.002, budget=1.0)


@pytest.mark.parametrize(
    "error",
    [
        nats.errors.NoServersError(),
        nats.errors.TimeoutError(),
        nats.errors.ConnectionClosedError(),
        nats.errors.UnexpectedEOF(),
        nats.errors.OutboundBufferLimitError(),
        nats.js.errors.NoStreamResponseError(),
        nats.js.errors.ServiceUnavailableError(code=503, description="x"),
        nats.js.errors.APIError(code=503, err_code=10008, description="temporarily unavailable"),
        psycopg.OperationalError("terminating connection due to administrator command"),
        eventsourcing.persistence.OperationalError("connection refused"),
        TransientError("NATS did not answer within 30 s"),
        ConnectionResetError("Connection lost"),  # a flush as the socket is cut
        # A leader election: JetStream answers with its code, or in words, not 503.
        nats.js.errors.APIError(code=500, err_code=10008, description="x"),
        nats.js.errors.APIError(code=500, description="JetStream cluster not current"),
        nats.js.errors.APIError(code=500, description="no leader for stream"),
        ReadModelLagError(1934),  # a read-your-writes wait during a database cut
    ],
)  # fmt: skip
def test_outages_are_transient(error: Exception) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad row"),
        RuntimeError("the file storage is closed"),
        nats.js.errors.BadRequestError(code=400, description="bad request"),
        nats.js.errors.ObjectNotFoundError(),
        psycopg.errors.UniqueViolation("duplicate key"),
        OSError("No space left on device"),
    ],
)
def test_a_jobs_own_errors_are_not(error: Exception) -> None:
    assert not is_transient(error)


def test_a_transient_error_is_retried_until_the_call_succeeds() -> None:
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise nats.errors.NoServersError
        return "done"

    assert retry_transient(flaky, what="test", backoff=FAST) == "done"
    assert len(calls) == 3


def test_any_other_error_is_raised_at_the_first_try() -> None:
    calls = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("the job's own")

    with pytest.raises(ValueError, match="the job's own"):
        retry_transient(broken, what="test", backoff=FAST)
    assert len(calls) == 1


def test_the_last_transient_error_is_raised_once_the_budget_is_spent() -> None:
    calls = []

    def down() -> None:
        calls.append(1)
        raise nats.errors.NoServersError

    budget = Backoff(first=0.01, most=0.01, budget=0.1)
    with pytest.raises(nats.errors.NoServersError):
        retry_transient(down, what="test", backoff=budget)
    assert 3 <= len(calls) <= 12  # about budget / pause tries, not forever


def test_giving_up_stops_the_retries() -> None:
    calls = []

    def down() -> None:
        calls.append(1)
        raise nats.errors.TimeoutError

    with pytest.raises(nats.errors.TimeoutError):
        retry_transient(down, what="test", backoff=FAST, give_up=lambda: True)
    assert len(calls) == 1


def test_pauses_grow_to_the_most_with_jitter() -> None:
    pauses = Backoff(first=1.0, most=4.0, budget=60).pauses()
    first, second, third, fourth = (next(pauses) for _ in range(4))
    assert 0.8 <= first <= 1.2
    assert 1.6 <= second <= 2.4
    assert 3.2 <= third <= 4.8
    assert 3.2 <= fourth <= 4.8


def test_the_async_form_retries_a_coroutine() -> None:
    calls = []

    async def flaky() -> int:
        calls.append(1)
        if len(calls) < 2:
            raise nats.js.errors.NoStreamResponseError
        return 7

    result = asyncio.run(retry_transient_async(flaky, what="test", backoff=FAST))
    assert result == 7
    assert len(calls) == 2


def test_a_read_model_wait_that_ran_out_says_so_in_words() -> None:
    error = ReadModelLagError(1934)
    assert error.args == (1934,)  # the HTTP handler logs the position
    assert str(error) != "1934"
    assert "read model did not catch up with event 1934" in str(error)
