"""GET /uploads/{key}: public files as they are, protected ones on a valid signature."""

from __future__ import annotations

import mimetypes
import time
from collections.abc import Iterator

import msgspec
from litestar import MediaType, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Stream

from service.api_services.files import FilesService
from service.files import signing
from service.files.storage import (
    FileReader,
    InvalidFileKeyError,
    StoredFileNotFoundError,
    check_key,
)
from service.http import openapi
from service.http.schemas import ErrorResponse

# A stored HTML or SVG file must not run script on the API's origin.
SAFE_HEADERS = {
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; sandbox",
}


def _chunks(reader: FileReader) -> Iterator[bytes]:
    with reader:
        yield from reader.chunks()


@get(
    "/uploads/{key:path}",
    sync_to_thread=True,
    operation_id="GetUpload",
    tags=["Uploads"],
    responses=openapi.errors(404),
)
def download(
    key: FromPath[str],
    files: NamedDependency[FilesService],
    expires: FromQuery[str | None] = None,
    signature: FromQuery[str | None] = None,
) -> Response[bytes] | Stream:
    """A stored file: keys under `public/` as they are, others with a signed URL."""
    key = key.lstrip("/")
    try:
        check_key(key)
        signing.check_download(
            key, expires, signature, files.signing_secret, time.time()
        )
    except InvalidFileKeyError:
        raise StoredFileNotFoundError(key) from None
    except signing.DownloadRefusedError as refusal:
        body = ErrorResponse(type=refusal.type, message=refusal.message)
        return Response(
            msgspec.json.encode(body), status_code=403, media_type=MediaType.JSON
        )
    size = files.storage.size(key)
    reader = files.storage.open_reader(key)
    media_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    return Stream(
        _chunks(reader),
        media_type=media_type,
        headers={**SAFE_HEADERS, "content-length": str(size)},
    )
