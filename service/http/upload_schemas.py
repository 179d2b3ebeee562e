"""Wire shapes of /admin/uploads (Medusa v1)."""

from __future__ import annotations

from typing import Literal

import msgspec


class UploadResponseItem(msgspec.Struct, frozen=True):
    url: str
    key: str


class UploadsResponse(msgspec.Struct, frozen=True):
    uploads: list[UploadResponseItem]


class DeleteFileResponse(msgspec.Struct, frozen=True):
    id: str
    object: Literal["file"] = "file"
    deleted: bool = True


class DownloadUrlResponse(msgspec.Struct, frozen=True):
    download_url: str


# Checked by service.http.uploads (Medusa's messages), then decoded into this.
class FileKeyRequest(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True
):
    """AdminDeleteUploadsReq / AdminPostUploadsDownloadUrlReq."""

    file_key: str
