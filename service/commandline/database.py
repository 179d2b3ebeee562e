"""Before a command touches PostgreSQL: whether JOBSTREAM_DATABASE_URL's database answers."""

from __future__ import annotations

import psycopg

from service.commandline.errors import CommandError
from service.settings import postgres_env

CONNECT_TIMEOUT_SECONDS = 5
# Databases every PostgreSQL server has, to ask whether the named one exists.
MAINTENANCE_DATABASES = ("postgres", "template1")


def check_database(database_url: str) -> None:
    """CommandError naming JOBSTREAM_DATABASE_URL and the database if it cannot be used.

    The message names host, port and database, never the password.
    """
    env = postgres_env(database_url)
    name = env["POSTGRES_DBNAME"]
    where = f"{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}"
    try:
        with psycopg.connect(database_url, connect_timeout=CONNECT_TIMEOUT_SECONDS):
            return
    except psycopg.OperationalError as error:
        if _missing(database_url, name):
            raise CommandError(
                f"JOBSTREAM_DATABASE_URL names database {name!r}, which does not exist "
                f"on {where} (create it, e.g. createdb -h {env['POSTGRES_HOST']} "
                f"-p {env['POSTGRES_PORT']} {name})"
            ) from None
        raise CommandError(
            f"JOBSTREAM_DATABASE_URL: cannot connect to database {name!r} on {where}: "
            f"{_reason(error)}"
        ) from None


def _missing(database_url: str, name: str) -> bool:
    """Whether the server answers and has no database called `name`."""
    for maintenance in MAINTENANCE_DATABASES:
        try:
            with psycopg.connect(
                database_url,
                dbname=maintenance,
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
            ) as conn:
                found = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
                ).fetchone()
                return found is None
        except psycopg.OperationalError:
            continue
    return False


def _reason(error: psycopg.OperationalError) -> str:
    """The reason libpq gives, without its `connection to server ... failed:` preamble."""
    first = (
        str(error).strip().splitlines()[0]
        if str(error).strip()
        else type(error).__name__
    )
    return first.rpartition("failed: ")[2].replace("FATAL:  ", "").strip() or first
