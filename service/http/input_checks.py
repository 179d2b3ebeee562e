"""What a request may carry: no NUL character, JSON not too deep, page numbers in range.

PostgreSQL cannot store U+0000 in `text` or `jsonb`, so a NUL that got into an event
would stop the read models; SQLite would take it, and the backends must agree. The
edge refuses it, naming where it was. Deep JSON is refused before anything recurses
over it (msgspec, the event store's encoder, PostgreSQL's jsonb parser).
"""

from __future__ import annotations

from typing import Any

from domain.errors import InvalidDataError

NUL = "\x00"
MAX_JSON_DEPTH = 64
TOO_DEEP = f"The request body is nested more than {MAX_JSON_DEPTH} levels deep"
# The largest integer a JavaScript client can send exactly; it fits SQL's bigint.
MAX_PAGE_NUMBER = 2**53 - 1


def nul_message(where: str) -> str:
    return f"{where} must not contain the NUL character"


def check_json(body: bytes, decoded: Any) -> None:
    """Refuse a NUL in any key or string, and nesting past MAX_JSON_DEPTH."""
    # Cheap tests on the raw bytes first: JSON can only carry NUL as the `\u0000`
    # escape, and cannot nest deeper than it has brackets.
    nesting = body.count(b"{") + body.count(b"[")
    if b"\\u0000" in body or nesting > MAX_JSON_DEPTH:
        _walk(decoded, "", 0)


def _walk(value: Any, path: str, depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        raise InvalidDataError(TOO_DEEP)
    if isinstance(value, str):
        if NUL in value:
            raise InvalidDataError(nul_message(path or "The request body"))
    elif isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                where = f"A property name in {path}" if path else "A property name"
                raise InvalidDataError(nul_message(where))
            _walk(item, f"{path}.{key}" if path else key, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, f"{path}[{index}]", depth + 1)


def check_page_number(key: str, number: float, errors: list[str]) -> bool:
    """`limit` / `offset` within what a database and a JSON client hold exactly."""
    if number > MAX_PAGE_NUMBER:
        errors.append(f"{key} must not be greater than {MAX_PAGE_NUMBER}")
        return False
    return True
