"""A multipart body streamed into file storage, part by part, never whole in memory."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from litestar import Request
from multipart import (  # type: ignore[import-untyped]
    MultipartError,
    MultipartSegment,
    ParserLimitReached,
    PushMultipartParser,
    parse_options_header,
)

from domain.errors import InvalidDataError

if TYPE_CHECKING:
    from service.files.storage import FileStorage, FileWriter

FIELD = "files"  # multer's upload.array("files")
WRITE_BYTES = 256 * 1024  # gathered before each hop to a thread
MAX_TEXT_FIELD_BYTES = 64 * 1024
_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")


class UploadTooLargeError(InvalidDataError):
    def __init__(self, filename: str, limit: int) -> None:
        super().__init__(
            f"File {filename} is larger than the upload limit of {limit} bytes"
        )


def storage_key(prefix: str, filename: str) -> str:
    """`<prefix>/<ms>-<random>-<name>`: Medusa's `<Date.now()>-<basename>`, unique."""
    basename = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME_CHARACTERS.sub("_", basename).lstrip(".")[-100:] or "file"
    return f"{prefix}/{int(time.time() * 1000)}-{secrets.token_hex(4)}-{name}"


@dataclass(frozen=True)
class UploadLimits:
    parts: int  # segments of the form, files and text fields
    request_bytes: int  # the whole body, framing included


class UploadRequestTooLargeError(InvalidDataError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The upload request is larger than the limit of {limit} bytes"
        )


def check_declared_size(request: Request[Any, Any, Any], limit: int) -> None:
    """Refuse before reading when Content-Length already says the body is too big."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise UploadRequestTooLargeError(limit)


class _Part:
    """The file part being received: its writer and a buffer of its next bytes."""

    def __init__(self, writer: FileWriter, filename: str) -> None:
        self.writer, self.filename = writer, filename
        self.size = 0
        self.buffer = bytearray()


class UploadReceiver:
    """Feeds parser events to storage; on any failure, leaves nothing stored."""

    def __init__(self, storage: FileStorage, prefix: str, max_bytes: int) -> None:
        self.storage, self.prefix, self.max_bytes = storage, prefix, max_bytes
        self.stored: list[str] = []
        self._part: _Part | None = None
        self._text_bytes = 0

    async def on_segment(self, segment: MultipartSegment) -> None:
        if not segment.filename:  # a text field, or a file input left empty
            self._text_bytes = 0  # multer puts text in req.body; nothing reads it
            return
        if segment.name != FIELD:
            raise InvalidDataError(f"Unexpected field {segment.name}")
        key = storage_key(self.prefix, segment.filename)
        writer = await anyio.to_thread.run_sync(self.storage.open_writer, key)
        self._part = _Part(writer, segment.filename)

    async def on_data(self, data: bytes | bytearray) -> None:
        part = self._part
        if part is None:
            self._text_bytes += len(data)
            if self._text_bytes > MAX_TEXT_FIELD_BYTES:
                raise InvalidDataError("A form field is too large")
            return
        part.size += len(data)
        if part.size > self.max_bytes:
            raise UploadTooLargeError(part.filename, self.max_bytes)
        part.buffer += data
        if len(part.buffer) >= WRITE_BYTES:
            await self._write(part)

    async def on_end(self) -> None:
        part, self._part = self._part, None
        if part is not None:
            await self._write(part)
            await anyio.to_thread.run_sync(part.writer.commit)
            self.stored.append(part.writer.key)

    @staticmethod
    async def _write(part: _Part) -> None:
        chunk, part.buffer = bytes(part.buffer), bytearray()
        await anyio.to_thread.run_sync(part.writer.write, chunk)

    async def discard(self) -> None:
        """Abort the file in progress and delete the ones this request stored."""
        part, self._part = self._part, None
        with anyio.CancelScope(shield=True):  # also when the client went away
            if part is not None:
                await anyio.to_thread.run_sync(part.writer.abort)
            for key in self.stored:
                await anyio.to_thread.run_sync(self.storage.delete, key)
        self.stored.clear()


def _boundary(request: Request[Any, Any, Any]) -> str:
    content_type, options = parse_options_header(
        request.headers.get("content-type", "")
    )
    if content_type != "multipart/form-data" or not options.get("boundary"):
        raise InvalidDataError(
            f"Expected a multipart/form-data body with one or more {FIELD}"
        )
    boundary: str = options["boundary"]
    return boundary


async def _parse(
    request: Request[Any, Any, Any], receiver: UploadReceiver, limits: UploadLimits
) -> None:
    stream = request.stream()
    received = 0
    with PushMultipartParser(
        _boundary(request), max_segment_count=limits.parts
    ) as parser:
        while not parser.closed:
            chunk = await anext(stream, b"")
            received += len(chunk)
            if received > limits.request_bytes:  # chunked, or a lying Content-Length
                raise UploadRequestTooLargeError(limits.request_bytes)
            for event in parser.parse(chunk):
                if isinstance(event, MultipartSegment):
                    await receiver.on_segment(event)
                elif event is None:
                    await receiver.on_end()
                else:
                    await receiver.on_data(event)


async def receive_uploads(
    request: Request[Any, Any, Any], receiver: UploadReceiver, limits: UploadLimits
) -> list[str]:
    """Store every file of the `files` field; return their keys in order."""
    check_declared_size(request, limits.request_bytes)
    try:
        await _parse(request, receiver, limits)
    except ParserLimitReached as error:
        await receiver.discard()
        if "segment count" in str(error):
            message = f"More than {limits.parts} parts in the form"
            raise InvalidDataError(message) from None
        raise InvalidDataError(f"Invalid multipart/form-data: {error}") from None
    except MultipartError as error:
        await receiver.discard()
        raise InvalidDataError(f"Invalid multipart/form-data: {error}") from None
    except BaseException:
        await receiver.discard()
        raise
    if not receiver.stored:
        raise InvalidDataError(f"{FIELD} must contain at least one file")
    return receiver.stored
