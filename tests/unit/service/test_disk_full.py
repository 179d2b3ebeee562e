"""Telling a database's disk-full error from its other operational errors."""

from __future__ import annotations

import psycopg
from eventsourcing.persistence import OperationalError

from service.disk_full import is_disk_full


def wrapped(cause: Exception) -> OperationalError:
    """As eventsourcing raises it: `raise OperationalError(e) from e`."""
    error = OperationalError(str(cause))
    error.__cause__ = cause
    return error


def test_sqlite_and_postgres_disk_full_errors_are_recognised_through_the_wrapper() -> (
    None
):
    postgres = psycopg.errors.DiskFull(
        'could not extend file "base/16384/16385": No space left on device'
    )
    sqlite = wrapped(OperationalError("database or disk is full"))

    assert is_disk_full(wrapped(postgres))
    assert is_disk_full(sqlite)
    assert not is_disk_full(wrapped(OperationalError("database is locked")))
    assert not is_disk_full(
        wrapped(psycopg.errors.QueryCanceled("canceling statement"))
    )
