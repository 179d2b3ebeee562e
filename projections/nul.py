"""The read models' one rule for U+0000: the view stores U+FFFD in its place.

The event store keeps events as bytes, so it accepts any string; PostgreSQL cannot
store U+0000 in `text` or `jsonb`, SQLite can. So that an event with a NUL projects on
both backends, and reads the same on both, a view writer replaces U+0000 by U+FFFD
(the replacement character) in every string it stores: values, object keys, nested
items, and the documents rendered from them. The events keep the original text.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

import msgspec

NUL = "\x00"
REPLACEMENT = "\ufffd"
T = TypeVar("T")

_encoder = msgspec.json.Encoder()
# JSON always escapes U+0000, as this; a literal backslash-u-0000 may match as well,
# which only costs a scrub that changes nothing.
_ESCAPED_NUL = b"\\u0000"


def scrub(value: T) -> T:
    """`value` with U+0000 replaced by U+FFFD in every string (dataclasses included)."""
    if isinstance(value, str):
        return value.replace(NUL, REPLACEMENT)  # type: ignore[return-value]
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}  # type: ignore[return-value]
    if isinstance(value, list | tuple):
        return type(value)(scrub(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            field.name: scrub(getattr(value, field.name))
            for field in dataclasses.fields(value)
            if field.init
        }
        return dataclasses.replace(value, **changes)
    return value


def without_nul(value: T) -> T:
    """`value` itself if none of its strings holds U+0000, else `scrub(value)`.

    The check is one JSON encoding (C speed), so clean rows, nearly all of them,
    cost almost nothing.
    """
    if _ESCAPED_NUL not in _encoder.encode(value):
        return value
    return scrub(value)


def clean_text(value: Any) -> str:
    """Any value as text fit for any backend (for names, ids and error messages)."""
    return str(value).replace(NUL, REPLACEMENT)
