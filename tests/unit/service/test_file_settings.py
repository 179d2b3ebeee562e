"""Which file store the settings choose, and signed download URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.errors import InvalidDataError
from service.files import signing
from service.files.backends import build_file_storage, file_store_kind
from service.files.local import LocalFileStorage
from service.settings import Settings, load_settings

SECRET = "a-secret-of-at-least-thirty-two-bytes"


def test_files_are_local_unless_nats_is_configured() -> None:
    assert file_store_kind(load_settings({})) == "local"
    assert file_store_kind(Settings(nats_url="nats://n:4222")) == "nats"
    assert file_store_kind(Settings(nats_url="nats://n:4222", file_store="local")) == (
        "local"
    )


def test_the_file_settings_are_read_from_the_environment() -> None:
    settings = load_settings(
        {
            "JOBSTREAM_FILE_STORE": "nats",
            "JOBSTREAM_NATS_URL": "nats://127.0.0.1:4222",  # the store needs one
            "JOBSTREAM_FILE_BUCKET": "shop-files",
            "JOBSTREAM_UPLOAD_MAX_BYTES": "1000",
            "JOBSTREAM_DOWNLOAD_URL_TTL_SECONDS": "60",
            "JOBSTREAM_BACKEND_URL": "https://api.shop.io",
        }
    )

    assert (settings.file_store, settings.file_bucket) == ("nats", "shop-files")
    assert (settings.upload_max_bytes, settings.download_url_ttl_seconds) == (1000, 60)
    assert settings.backend_url == "https://api.shop.io"


def test_the_local_store_lives_under_the_data_dir(tmp_path: Path) -> None:
    storage = build_file_storage(Settings(data_dir=str(tmp_path)))

    assert isinstance(storage, LocalFileStorage)
    assert storage.root == (tmp_path / "uploads").resolve()


def test_a_nats_store_needs_a_nats_url(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="JOBSTREAM_NATS_URL"):
        build_file_storage(Settings(data_dir=str(tmp_path), file_store="nats"))


def test_public_keys_need_no_signature_and_others_a_valid_one() -> None:
    signing.check_download("public/a.csv", None, None, SECRET, now=0)
    sig = signing.signature("protected/a.csv", 100, SECRET)

    signing.check_download("protected/a.csv", "100", sig, SECRET, now=100)
    refusals = [
        ("protected/a.csv", None, None, 0),
        ("protected/a.csv", "100", sig, 101),  # expired
        ("protected/b.csv", "100", sig, 0),  # another key
        ("protected/a.csv", "1000", sig, 0),  # another expiry
        ("public/a.csv", "100", "forged", 0),  # a signature given is checked
    ]
    for key, expires, given, now in refusals:
        with pytest.raises(signing.DownloadRefusedError):
            signing.check_download(key, expires, given, SECRET, now=now)
    assert signing.signature("protected/a.csv", 100, SECRET + "x") != sig
    # A malformed expiry is bad input (400), not a signature to compute.
    for expires in ("-1", "²", "9" * 5000, "1e9", "", " 100"):
        with pytest.raises(InvalidDataError, match="expires must be a time"):
            signing.check_download("protected/a.csv", expires, sig, SECRET, now=0)
