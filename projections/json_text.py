"""JSON text for a column, encoded and decoded by msgspec, the stdlib where it cannot.

A fold re-encodes every JSON column of every row it changes, and the next fold decodes
them again: with the stdlib that was a tenth of the embedded projection's time. msgspec
does the same at a fifth to a tenth of the cost. It refuses what the stdlib takes (a
lone surrogate in a string, a NaN stored by an older version), so those fall back: any
text either one wrote, the other reads.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def dumps(value: Any) -> str:
    """`value` as compact JSON text."""
    try:
        return _encoder.encode(value).decode()
    except (UnicodeEncodeError, TypeError, msgspec.EncodeError):
        return json.dumps(value, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """The value of JSON text."""
    try:
        return _decoder.decode(text)
    except msgspec.DecodeError:
        return json.loads(text)
