"""What the upload and download endpoints use: the file store, owners, signing, limits."""

from __future__ import annotations

from abc import ABC
from typing import TYPE_CHECKING

from service.files.owners import FileOwners

if TYPE_CHECKING:
    from service.application import Jobstream
    from service.files.storage import FileStorage
    from service.settings import Settings


class FilesService(ABC):  # an ABC: see BatchJobsService
    """The stored files, who owns each, and the rules uploads and downloads follow."""

    storage: FileStorage
    owners: FileOwners
    signing_secret: str  # signs download URLs
    backend_url: str | None  # Medusa's: else the URL a request came to
    upload_max_bytes: int
    upload_max_parts: int
    upload_max_request_bytes: int
    download_url_ttl_seconds: int


class Files(FilesService):
    def __init__(
        self,
        app: Jobstream,
        storage: FileStorage,
        signing_secret: str,
        settings: Settings,
    ) -> None:
        self.storage = storage
        self.owners = FileOwners(app)
        self.signing_secret = signing_secret
        self.backend_url = settings.backend_url
        self.upload_max_bytes = settings.upload_max_bytes
        self.upload_max_parts = settings.upload_max_parts
        self.upload_max_request_bytes = settings.upload_max_request_bytes
        self.download_url_ttl_seconds = settings.download_url_ttl_seconds
