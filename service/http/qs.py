"""Query strings as Medusa reads them: `qs.parse(str, {arrayLimit: Infinity})`.

Brackets nest (`created_at[gte]=…`), `[]` and `[n]` build arrays, repeated keys
become arrays, nesting stops at depth 5 like qs. Then Medusa's normalizeQuery splits
a one-element array on commas (`type[]=a,b` → `["a", "b"]`).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_plus

MAX_DEPTH = 5
_BRACKET = re.compile(r"\[([^\[\]]*)\]")
_INDEX = re.compile(r"0|[1-9][0-9]{0,14}")  # ASCII digits only: "¹" is a name


class _Indexed(dict[int | str, Any]):
    """An array under construction: integer keys until a name turns it into an object."""


def parse(query: str) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for part in query.split("&"):
        if not part:
            continue
        raw_key, _, raw_value = part.partition("=")
        key, value = unquote_plus(raw_key), unquote_plus(raw_value)
        if key:
            _assign(root, _segments(key), value)
    finalized: dict[str, Any] = _finalize(root)
    return normalize(finalized)


def normalize(query: dict[str, Any]) -> dict[str, Any]:
    """Medusa's normalizeQuery: a one-string array is split on commas."""
    return {
        key: value[0].split(",")
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str)
        else value
        for key, value in query.items()
    }


def _segments(key: str) -> list[str]:
    bracket = key.find("[")
    if bracket <= 0:
        return [key]
    segments = [key[:bracket]]
    position = bracket
    while len(segments) <= MAX_DEPTH:
        match = _BRACKET.match(key, position)
        if match is None:
            break
        segments.append(match.group(1))
        position = match.end()
    if position < len(key):
        # qs keeps whatever lies past the depth limit as one literal segment.
        segments.append(key[position:])
    return segments


def _assign(container: dict[Any, Any], segments: list[str], value: str) -> None:
    key = _key_in(container, segments[0])
    if len(segments) == 1:
        _put(container, key, value)
        return
    child = container.get(key)
    if not isinstance(child, dict):
        following = segments[1]
        child = _Indexed() if following == "" or _is_index(following) else {}
        container[key] = child
    _assign(child, segments[1:], value)


def _key_in(container: dict[Any, Any], segment: str) -> int | str:
    if isinstance(container, _Indexed):
        if segment == "":
            return len(container)
        if _is_index(segment):
            return int(segment)
    return segment


def _is_index(segment: str) -> bool:
    """An index, as qs reads `[n]`: only when `String(parseInt(n)) === n`."""
    return _INDEX.fullmatch(segment) is not None


def _put(container: dict[Any, Any], key: int | str, value: str) -> None:
    if key not in container:
        container[key] = value
    elif isinstance(container[key], list):
        container[key].append(value)
    else:
        container[key] = [container[key], value]


def _finalize(value: Any) -> Any:
    if isinstance(value, _Indexed):
        if all(isinstance(key, int) for key in value):
            # qs compacts sparse arrays: a[5]=x gives ["x"].
            return [_finalize(value[key]) for key in sorted(value, key=int)]
        return {str(key): _finalize(item) for key, item in value.items()}
    if isinstance(value, dict):
        return {key: _finalize(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finalize(item) for item in value]
    return value
