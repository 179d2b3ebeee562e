"""Medusa-style entity ids: `<prefix>_<ULID>`."""

from __future__ import annotations

import secrets
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Two characters per 10 bits: a ULID's 130 bits in 13 look-ups, not 26 shifts
# (an import makes five ids per row).
_PAIRS = [high + low for high in _CROCKFORD for low in _CROCKFORD]
_SHIFTS = range(120, -1, -10)


def new_ulid(now_ms: int | None = None) -> str:
    """A 26-character ULID: 48 bits of milliseconds, then 80 random bits."""
    millis = int(time.time() * 1000) if now_ms is None else now_ms
    value = (millis << 80) | secrets.randbits(80)
    return "".join([_PAIRS[(value >> shift) & 0x3FF] for shift in _SHIFTS])


def new_id(prefix: str) -> str:
    return f"{prefix}_{new_ulid()}"
