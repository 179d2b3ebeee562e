"""Bodies are JSON only when they say so, as Medusa's express.json() reads them."""

from __future__ import annotations

from typing import Any

from litestar import Request


def is_json(content_type: str) -> bool:
    """`application/json`, any parameters and case (type-is, as express.json asks)."""
    media_type, _, _ = content_type.partition(";")
    return media_type.strip().lower() == "application/json"


class JsonOnlyRequest(Request[Any, Any, Any]):
    """A body of any other content type is not read: the handler sees an empty one.

    So a cross-site `<form enctype="text/plain">` holding JSON is validated as `{}`
    (`type must be a string, context must be an object`), never acted on. Uploads read
    the stream, not this.
    """

    async def body(self) -> bytes:
        if not is_json(self.headers.get("content-type", "")):
            return b""
        return await super().body()
