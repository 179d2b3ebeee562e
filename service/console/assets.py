"""The console's static files, read once into memory and served with long caching.

Pages link them as `/app/static/<name>?v=<version>`, the version a digest of every
file, so a browser keeps them for a year and a new release is fetched at once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib.resources import files

_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


@dataclass(frozen=True)
class Assets:
    by_name: dict[str, Asset]
    version: str


def load_assets() -> Assets:
    folder = files("service.console") / "static"
    by_name: dict[str, Asset] = {}
    whole = hashlib.sha256()
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        suffix = entry.name[entry.name.rfind(".") :]
        if not entry.is_file() or suffix not in _MEDIA_TYPES:
            continue
        body = entry.read_bytes()
        digest = hashlib.sha256(body).hexdigest()[:16]
        whole.update(entry.name.encode() + b"\0" + body)
        by_name[entry.name] = Asset(body, _MEDIA_TYPES[suffix], f'"{digest}"')
    return Assets(by_name, whole.hexdigest()[:12])


ASSETS = load_assets()
