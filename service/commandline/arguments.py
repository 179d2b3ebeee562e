"""argparse with one-line errors, and every text argument checked before it is used."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any, NoReturn


class CommandParser(argparse.ArgumentParser):
    """Errors as one line (`jobstream state: argument --version: ...`), exit 2.

    Arguments without a type are `text`: one with U+0000 or bytes that are not UTF-8
    is refused here, before it can reach a database that would refuse it later.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        if kwargs.get("action", "store") in {"store", "append"}:
            kwargs.setdefault("type", text)
        return super().add_argument(*args, **kwargs)


def command(commands: Any, name: str, summary: str) -> CommandParser:
    """A subcommand whose `--help` says what it does (and its parent's list, too)."""
    parser: CommandParser = commands.add_parser(name, help=summary, description=summary)
    return parser


def text(value: str) -> str:
    if "\x00" in value:
        raise argparse.ArgumentTypeError(
            "contains U+0000 (NUL), which cannot be stored"
        )
    try:
        value.encode()
    except UnicodeEncodeError:
        raise argparse.ArgumentTypeError(f"is not valid UTF-8: {value!r}") from None
    return value


def at_least_one(value: str) -> int:
    """A count or a version: an integer from 1 up."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be an integer from 1 up, got {value!r}")
    return number


def moment(value: str) -> datetime:
    """An ISO 8601 time; UTC if it names no offset."""
    try:
        at = datetime.fromisoformat(text(value))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be an ISO 8601 time (2024-05-01T12:00:00Z), got {value!r}"
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def position_or_moment(value: str) -> int | datetime:
    """`--since`: an event position (events after it), or an ISO 8601 time."""
    if value.isascii() and value.isdigit():
        return int(value)
    try:
        return moment(value)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            "must be an event position (0, 1, 2, ...) or an ISO 8601 time "
            f"(2024-05-01T12:00:00Z), got {value!r}"
        ) from None
