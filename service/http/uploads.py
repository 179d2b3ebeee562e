"""/admin/uploads: store files, delete them, sign download URLs (Medusa v1)."""

from __future__ import annotations

import time
from typing import Any

import structlog
from litestar import Controller, Request, delete, post
from litestar.di import NamedDependency
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    RequestBody,
    Schema,
)
from litestar.params import JSONBody

from domain.errors import InvalidDataError
from domain.users import User
from service.api_services.files import FilesService
from service.files import signing
from service.files.storage import StoredFileNotFoundError, check_key
from service.http import openapi
from service.http.medusa_body import MedusaBody, MedusaBodyDTO
from service.http.upload_schemas import (
    DeleteFileResponse,
    DownloadUrlResponse,
    FileKeyRequest,
    UploadResponseItem,
    UploadsResponse,
)
from service.http.upload_stream import (
    FIELD,
    UploadLimits,
    UploadReceiver,
    receive_uploads,
)

log = structlog.get_logger("http")

FILES_BODY = RequestBody(
    content={
        "multipart/form-data": OpenAPIMediaType(
            schema=Schema(
                type=OpenAPIType.OBJECT,
                properties={
                    FIELD: Schema(
                        type=OpenAPIType.ARRAY,
                        items=Schema(
                            type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY
                        ),
                    )
                },
                required=[FIELD],
            )
        )
    },
    required=True,
)


# A request without a JSON body decodes as `{}` (MedusaBody.empty).
EMPTY_FILE_KEY = MedusaBody.empty(FileKeyRequest)


def base_url(request: Request[Any, Any, Any], files: FilesService) -> str:
    """Medusa's `backend_url`: the setting, else the URL this request came to."""
    return (files.backend_url or str(request.base_url)).rstrip("/")


def file_key_of(data: MedusaBody[FileKeyRequest]) -> str:
    """AdminDeleteUploadsReq / AdminPostUploadsDownloadUrlReq: `@IsString file_key`."""
    return check_key(data.decode(_checked_file_key))


def _checked_file_key(decoded: dict[str, Any]) -> str:
    errors = [
        f"property {key} should not exist" for key in decoded if key != "file_key"
    ]
    key = decoded.get("file_key")
    if not isinstance(key, str):
        errors.append("file_key must be a string")
    if errors:
        raise InvalidDataError(", ".join(errors))
    return str(key)


class UploadController(Controller):
    path = "/admin/uploads"
    tags = ["Uploads"]
    security = openapi.LOGGED_IN

    async def _upload(
        self,
        request: Request[Any, Any, Any],
        files: FilesService,
        caller: User,
        prefix: str,
    ) -> UploadsResponse:
        # Each file is recorded as the caller's before its first byte is stored.
        owned = files.owners.writes_by(files.storage, caller.id, caller.id)
        receiver = UploadReceiver(owned, prefix, files.upload_max_bytes)
        limits = UploadLimits(files.upload_max_parts, files.upload_max_request_bytes)
        keys = await receive_uploads(request, receiver, limits)
        log.info("uploads.stored", keys=keys, owner=caller.id)
        base = base_url(request, files)
        return UploadsResponse(
            [UploadResponseItem(f"{base}{signing.file_path(k)}", k) for k in keys]
        )

    @post(
        status_code=200,
        operation_id="PostUploads",
        request_max_body_size=None,  # held to JOBSTREAM_UPLOAD_MAX_REQUEST_BYTES
        operation_class=openapi.documented(body=FILES_BODY),
        responses=openapi.errors(400, 401),
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        files: NamedDependency[FilesService],
        caller: NamedDependency[User],
    ) -> UploadsResponse:
        """Store public files (multipart field `files`); each is served at its `url`."""
        return await self._upload(request, files, caller, "public")

    @post(
        "/protected",
        status_code=200,
        operation_id="PostUploadsProtected",
        request_max_body_size=None,
        operation_class=openapi.documented(body=FILES_BODY),
        responses=openapi.errors(400, 401),
    )
    async def upload_protected(
        self,
        request: Request[Any, Any, Any],
        files: NamedDependency[FilesService],
        caller: NamedDependency[User],
    ) -> UploadsResponse:
        """Store private files (e.g. import CSVs); served only through signed URLs."""
        return await self._upload(request, files, caller, "protected")

    @delete(
        status_code=200,
        sync_to_thread=True,
        operation_id="DeleteUploads",
        dto=MedusaBodyDTO,
        responses=openapi.errors(400, 401),
    )
    def delete_upload(
        self,
        *,
        data: JSONBody[MedusaBody[FileKeyRequest]] = EMPTY_FILE_KEY,
        files: NamedDependency[FilesService],
        caller: NamedDependency[User],
    ) -> DeleteFileResponse:
        """Delete one of the caller's files (admins: any); a missing file succeeds too."""
        key = file_key_of(data)
        # Not the caller's and not stored: answer as for any missing key, touch nothing.
        if files.owners.check(files.storage, key, caller.id, caller.role):
            deleted = files.storage.delete(key)
            log.info("uploads.deleted", key=key, existed=deleted, by=caller.id)
        return DeleteFileResponse(id=key)

    @post(
        "/download-url",
        status_code=200,
        sync_to_thread=True,
        operation_id="PostUploadsDownloadUrl",
        dto=MedusaBodyDTO,
        responses=openapi.errors(400, 401, 404),
    )
    def download_url(
        self,
        request: Request[Any, Any, Any],
        *,
        data: JSONBody[MedusaBody[FileKeyRequest]] = EMPTY_FILE_KEY,
        files: NamedDependency[FilesService],
        caller: NamedDependency[User],
    ) -> DownloadUrlResponse:
        """A signed URL for one of the caller's files (admins: any), until it expires."""
        key = file_key_of(data)
        if not files.owners.check(files.storage, key, caller.id, caller.role):
            raise StoredFileNotFoundError(key)
        if not files.storage.exists(key):
            raise files.owners.missing(key)  # says so if it was removed for its age
        expires = int(time.time()) + files.download_url_ttl_seconds
        path = signing.signed_path(key, expires, files.signing_secret)
        return DownloadUrlResponse(f"{base_url(request, files)}{path}")
