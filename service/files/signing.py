"""Signed, expiring download URLs: an HMAC of the key and the expiry time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from urllib.parse import quote, urlencode

from domain.errors import DomainError, InvalidDataError

PUBLIC_PREFIX = "public/"  # the only keys served without a signature
DOWNLOAD_PATH = "/uploads"
_PURPOSE = b"jobstream file download"  # the secret also signs JWTs: derive a key
# Unix seconds in ASCII digits, at most 12 of them (year 33658): "²" or 5,000 digits
# are a malformed URL, not a signature to compute.
_EXPIRES = re.compile(r"[0-9]{1,12}")


class DownloadRefusedError(DomainError):
    """A protected file was asked for without a valid, unexpired signature."""

    type = "not_allowed"


def is_public(key: str) -> bool:
    return key.startswith(PUBLIC_PREFIX)


def file_path(key: str) -> str:
    return f"{DOWNLOAD_PATH}/{quote(key)}"


def signature(key: str, expires: int, secret: str) -> str:
    signing_key = hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()
    mac = hmac.new(signing_key, f"{key}\n{expires}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def signed_path(key: str, expires: int, secret: str) -> str:
    query = urlencode(
        {"expires": expires, "signature": signature(key, expires, secret)}
    )
    return f"{file_path(key)}?{query}"


def check_download(
    key: str, expires: str | None, sig: str | None, secret: str, now: float
) -> None:
    """Raise `DownloadRefusedError` unless `key` may be served to this request."""
    if sig is None and expires is None and is_public(key):
        return
    if sig is None or expires is None:
        raise DownloadRefusedError(
            "This file is protected: ask POST /admin/uploads/download-url for a "
            "signed download URL"
        )
    if _EXPIRES.fullmatch(expires) is None:
        raise InvalidDataError("expires must be a time in unix seconds (digits only)")
    if not hmac.compare_digest(
        sig.encode(), signature(key, int(expires), secret).encode()
    ):
        raise DownloadRefusedError("The download URL's signature is not valid")
    if int(expires) < now:
        raise DownloadRefusedError("The download URL has expired")
