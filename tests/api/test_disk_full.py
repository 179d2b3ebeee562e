"""The data directory's disk full during an upload, an export and a write, then freed.

A small tmpfs is mounted as `<data dir>/uploads` (the local file storage), or as the
whole data directory (the embedded SQLite stores too), and filled up. An upload
answers 500 `unexpected_state` "The file storage is full: ..." (Medusa's status for
that type), an export fails with that message, a write to a full SQLite store answers
500 `unexpected_state` saying so; nothing partial is left, and everything works again
once the space is freed.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from service import disk_full
from service.http.app import create_app
from service.runtime import Runtime
from service.settings import Settings
from tests.api.catalog import conftest as catalog_fixtures
from tests.api.catalog.support import post, product
from tests.conftest import make_settings
from tests.support import Caller, new_user, wait_for_status

# The catalog is global: each PostgreSQL run gets a database of its own.
settings = catalog_fixtures.settings
FILLER = "filler"
FULL = re.compile(
    r"The file storage is full: (\S+) could not be stored\. Free some space and try again"
)


@contextlib.contextmanager
def tmpfs(root: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `root`, unmounted on every way out."""
    root.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.fail(f"this test mounts a tmpfs (needs root): {mounted.stderr}")
    try:
        yield root
    finally:
        if subprocess.run(["umount", str(root)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(root)], check=True)


@pytest.fixture
def files_root(settings: Settings) -> Iterator[Path]:
    """A 1 MB tmpfs where the local file storage keeps its files."""
    with tmpfs(Path(settings.data_dir) / "uploads", "1m") as root:
        yield root


@pytest.fixture
def runtime(settings: Settings, files_root: Path) -> Runtime:
    return Runtime(settings)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(runtime)) as test_client:
        yield test_client


@pytest.fixture
def admin(runtime: Runtime, client: TestClient[Any]) -> Caller:
    return new_user(runtime, "admin_user")


def fill(root: Path, leave: int = 0) -> Path:
    """Write until the file system has no space left, then free `leave` bytes."""
    filler = root / FILLER
    with filler.open("wb", buffering=0) as sink, contextlib.suppress(OSError):
        while True:
            sink.write(b"\0" * 65536)
    with filler.open("r+b") as sink:
        sink.truncate(filler.stat().st_size - leave)
    return filler


def stored_files(root: Path) -> list[str]:
    """Every file under the storage but the filler, temporary parts included."""
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and path.name != FILLER
    )


def upload(client: TestClient[Any], admin: Caller, size: int) -> Any:
    return client.post(
        "/admin/uploads/protected",
        files=[("files", ("products.csv", b"x" * size, "text/csv"))],
        headers=admin.headers,
    )


def test_an_upload_to_a_full_disk_answers_a_clear_error_and_leaves_no_file(
    client: TestClient[Any], admin: Caller, files_root: Path
) -> None:
    filler = fill(files_root, leave=128 * 1024)  # the upload fills it mid-way

    refused = upload(client, admin, 600_000)

    assert refused.status_code == 500
    body = refused.json()
    assert body["type"] == "unexpected_state"
    assert FULL.fullmatch(body["message"]), body
    assert FULL.fullmatch(body["message"])[1].startswith("protected/")  # type: ignore[index]
    assert stored_files(files_root) == []  # no part left in .tmp, nothing stored

    filler.unlink()
    stored = upload(client, admin, 300_000)
    assert stored.status_code == 200, stored.text
    assert stored_files(files_root) == [stored.json()["uploads"][0]["key"]]


def test_an_export_to_a_full_disk_fails_clearly_leaves_no_file_then_works(
    client: TestClient[Any], admin: Caller, files_root: Path
) -> None:
    product(client, admin)
    filler = fill(files_root)

    job_id = post(client, admin, "/admin/batch-jobs",
                  {"type": "product-export", "context": {}}).json()["batch_job"]["id"]  # fmt: skip
    failed = wait_for_status(client, admin, job_id, ["failed", "completed"])

    assert failed["status"] == "failed"
    errors = failed["result"]["errors"]
    # Medusa's two entries: the strategy's {message, code, err}, then the text.
    assert errors[0]["code"] == "unexpected_state"
    assert FULL.fullmatch(errors[0]["message"]), errors
    assert errors[-1] == errors[0]["message"]
    assert "file_key" not in failed["result"]
    assert "file_size" not in failed["result"]
    assert stored_files(files_root) == []

    filler.unlink()
    job_id = post(client, admin, "/admin/batch-jobs",
                  {"type": "product-export", "context": {}}).json()["batch_job"]["id"]  # fmt: skip
    completed = wait_for_status(client, admin, job_id, ["failed", "completed"])
    assert completed["status"] == "completed", completed
    assert stored_files(files_root) == [completed["result"]["file_key"]]


def test_a_write_to_a_full_embedded_store_says_so_and_works_once_space_is_freed(
    tmp_path: Path,
) -> None:
    with tmpfs(tmp_path / "data", "16m") as data:
        runtime = Runtime(make_settings(data))
        with TestClient(app=create_app(runtime)) as client:
            admin = new_user(runtime, "admin_user")
            product(client, admin)
            filler = fill(data)

            refused = post(client, admin, "/admin/batch-jobs",
                           {"type": "product-export", "context": {}})  # fmt: skip
            filler.unlink()
            created = post(client, admin, "/admin/batch-jobs",
                           {"type": "product-export", "context": {}})  # fmt: skip
            assert created.status_code == 201, created.text
            job = wait_for_status(client, admin, created.json()["batch_job"]["id"])
            deadline = time.monotonic() + 10
            while (health := client.get("/health")).status_code != 200:
                assert time.monotonic() < deadline, health.text
                time.sleep(0.05)
            listed = client.get("/admin/batch-jobs", headers=admin.headers).json()

    assert refused.status_code == 500
    assert refused.json() == {"type": "unexpected_state", "message": disk_full.MESSAGE}
    assert job["status"] == "completed"
    assert [j["id"] for j in listed["batch_jobs"]] == [job["id"]]  # the refused: none
