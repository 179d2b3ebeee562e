"""/admin/uploads and /uploads/{key}: on both databases, with local files and NATS."""

from __future__ import annotations

import os
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import msgspec
import pytest
from litestar.testing import TestClient

from service.files import signing
from service.http.app import create_app
from service.runtime import Runtime
from service.settings import Settings
from service.strategies.registry import StrategyRegistry
from tests.file_support import leftovers
from tests.integration.conftest import nats_url  # noqa: F401 - the NATS variant's server
from tests.support import Caller, ScriptedStrategy, new_user

LIMIT = 2 * 1024 * 1024
REQUEST_LIMIT = 2 * LIMIT + 64 * 1024
PARTS = 5
CSV = b"Product Id,Product Handle\nprod_1,shirt\n"


@pytest.fixture(params=["local", pytest.param("nats", marks=pytest.mark.integration)])
def runtime(
    request: pytest.FixtureRequest, settings: Settings, strategy: ScriptedStrategy
) -> Runtime:
    settings = msgspec.structs.replace(
        settings,
        upload_max_bytes=LIMIT,
        upload_max_request_bytes=REQUEST_LIMIT,
        upload_max_parts=PARTS,
    )
    if request.param == "nats":
        settings = msgspec.structs.replace(
            settings,
            nats_url=request.getfixturevalue("nats_url"),
            file_store="nats",
            file_bucket=f"files_{uuid.uuid4().hex[:8]}",
        )
    return Runtime(settings, registry=StrategyRegistry([strategy]))


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def upload(
    client: TestClient[Any], caller: Caller, *files: tuple[str, bytes], protected=False
) -> list[dict[str, str]]:
    response = client.post(
        "/admin/uploads/protected" if protected else "/admin/uploads",
        files=[("files", (name, content, "text/csv")) for name, content in files],
        headers=caller.headers,
    )
    assert response.status_code == 200, response.text
    uploads: list[dict[str, str]] = response.json()["uploads"]
    return uploads


def download_url(client: TestClient[Any], caller: Caller, key: str) -> str:
    response = client.post(
        "/admin/uploads/download-url", json={"file_key": key}, headers=caller.headers
    )
    assert response.status_code == 200, response.text
    url: str = response.json()["download_url"]
    return url


def test_public_uploads_are_served_at_their_url(
    client: TestClient[Any], admin: Caller
) -> None:
    big = os.urandom(LIMIT - 1)
    uploads = upload(client, admin, ("products.csv", CSV), ("big.bin", big))

    assert [item["key"].split("-")[-1] for item in uploads] == [
        "products.csv",
        "big.bin",
    ]
    assert all(item["key"].startswith("public/") for item in uploads)
    assert uploads[0]["url"] == f"http://testserver.local/uploads/{uploads[0]['key']}"
    csv_file = client.get(path_of(uploads[0]["url"]))
    assert (csv_file.status_code, csv_file.content) == (200, CSV)
    assert csv_file.headers["content-type"].startswith("text/csv")
    assert csv_file.headers["x-content-type-options"] == "nosniff"
    assert client.get(path_of(uploads[1]["url"])).content == big


def test_a_protected_upload_is_served_only_through_a_signed_url(
    client: TestClient[Any], admin: Caller
) -> None:
    [item] = upload(client, admin, ("import.csv", CSV), protected=True)

    assert item["key"].startswith("protected/")
    unsigned = client.get(path_of(item["url"]))
    assert unsigned.status_code == 403
    assert unsigned.json()["type"] == "not_allowed"
    assert "signed download URL" in unsigned.json()["message"]
    signed = download_url(client, admin, item["key"])
    assert signed.startswith(f"http://testserver.local/uploads/{item['key']}?expires=")
    fetched = client.get(path_of(signed))
    assert (fetched.status_code, fetched.content) == (200, CSV)


def test_a_tampered_or_expired_url_is_refused(
    client: TestClient[Any], admin: Caller, runtime: Runtime
) -> None:
    [one, other] = upload(client, admin, ("a.csv", CSV), ("b.csv", CSV), protected=True)
    signed = path_of(download_url(client, admin, one["key"]))
    secret = runtime.secrets.jwt_secret
    expired = signing.signed_path(one["key"], int(time.time()) - 1, secret)
    later = int(signed.split("expires=")[1].split("&")[0]) + 3600

    refusals = {
        "other key": signed.replace(one["key"], other["key"]),
        "other signature": signed[:-3]
        + ("AAA" if not signed.endswith("AAA") else "BBB"),
        "later expiry": signed.replace("expires=", f"expires={later}&was="),
        "no expiry": signed.split("?")[0]
        + "?signature="
        + signed.split("signature=")[1],
        "expired": expired,
    }
    for case, url in refusals.items():
        response = client.get(url)
        assert response.status_code == 403, case
    assert client.get(expired).json() == {
        "type": "not_allowed",
        "message": "The download URL has expired",
    }
    assert client.get(signed).status_code == 200


def test_an_oversized_file_is_refused_and_nothing_stays(
    client: TestClient[Any], admin: Caller, runtime: Runtime
) -> None:
    response = client.post(
        "/admin/uploads",
        files=[
            ("files", ("small.csv", CSV, "text/csv")),
            ("files", ("huge.bin", os.urandom(LIMIT + 1), "application/octet-stream")),
        ],
        headers=admin.headers,
    )

    assert response.status_code == 400
    assert response.json() == {
        "type": "invalid_data",
        "message": f"File huge.bin is larger than the upload limit of {LIMIT} bytes",
    }
    assert leftovers(runtime.files) == []


def test_an_upload_request_over_the_total_limit_is_refused_and_nothing_stays(
    client: TestClient[Any], admin: Caller, runtime: Runtime
) -> None:
    # Three files, each under the per-file limit, together over the request's.
    parts = [("files", (f"{n}.bin", os.urandom(LIMIT - 1), "text/csv")) for n in "abc"]

    response = client.post("/admin/uploads", files=parts, headers=admin.headers)

    assert response.status_code == 400
    assert response.json() == {
        "type": "invalid_data",
        "message": f"The upload request is larger than the limit of {REQUEST_LIMIT} bytes",
    }
    assert leftovers(runtime.files) == []


def test_a_chunked_upload_is_counted_as_it_streams(
    client: TestClient[Any], admin: Caller, runtime: Runtime
) -> None:
    # No Content-Length to refuse up front: the stream itself is counted.
    head = (
        b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="%s"\r\n\r\n'
    )

    def body() -> Any:
        for name in (b"a.bin", b"b.bin", b"c.bin"):
            yield head % name
            yield os.urandom(LIMIT - 1)
            yield b"\r\n"
        yield b"--xyz--\r\n"

    response = client.post(
        "/admin/uploads/protected",
        content=body(),
        headers={**admin.headers, "content-type": "multipart/form-data; boundary=xyz"},
    )

    assert response.status_code == 400
    assert response.json()["message"] == (
        f"The upload request is larger than the limit of {REQUEST_LIMIT} bytes"
    )
    assert leftovers(runtime.files) == []


def test_an_upload_with_too_many_parts_is_refused_and_nothing_stays(
    client: TestClient[Any], admin: Caller, runtime: Runtime
) -> None:
    parts = [("files", (f"{n}.csv", CSV, "text/csv")) for n in range(PARTS + 1)]

    response = client.post("/admin/uploads", files=parts, headers=admin.headers)

    assert response.status_code == 400
    assert response.json() == {
        "type": "invalid_data",
        "message": f"More than {PARTS} parts in the form",
    }
    assert leftovers(runtime.files) == []
    assert len(upload(client, admin, *[p[1][:2] for p in parts[:PARTS]])) == PARTS


@pytest.mark.parametrize(
    ("request_kwargs", "message"),
    [
        (
            {"files": [("other", (None, b"text"))]},
            "files must contain at least one file",
        ),
        (
            {"files": [("files", ("", b"", "application/octet-stream"))]},
            "files must contain at least one file",
        ),
        (
            {"files": [("attachment", ("a.csv", CSV, "text/csv"))]},
            "Unexpected field attachment",
        ),
        (
            {"json": {"files": "a.csv"}},
            "Expected a multipart/form-data body with one or more files",
        ),
    ],
)
def test_a_request_without_files_is_refused(
    client: TestClient[Any],
    admin: Caller,
    runtime: Runtime,
    request_kwargs: dict[str, Any],
    message: str,
) -> None:
    for path in ("/admin/uploads", "/admin/uploads/protected"):
        response = client.post(path, headers=admin.headers, **request_kwargs)
        assert response.status_code == 400
        assert response.json() == {"type": "invalid_data", "message": message}
    assert leftovers(runtime.files) == []


def test_a_truncated_body_stores_nothing(
    client: TestClient[Any], admin: Caller, runtime: Runtime
) -> None:
    body = b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="a.csv"\r\n\r\n'
    response = client.post(
        "/admin/uploads",
        content=body + os.urandom(300_000),
        headers={**admin.headers, "content-type": "multipart/form-data; boundary=xyz"},
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith("Invalid multipart/form-data")
    assert leftovers(runtime.files) == []


def test_delete_removes_the_file(client: TestClient[Any], admin: Caller) -> None:
    [item] = upload(client, admin, ("products.csv", CSV))

    response = client.request(
        "DELETE",
        "/admin/uploads",
        json={"file_key": item["key"]},
        headers=admin.headers,
    )

    assert response.status_code == 200
    assert response.json() == {"id": item["key"], "object": "file", "deleted": True}
    assert client.get(path_of(item["url"])).status_code == 404
    gone = client.post(
        "/admin/uploads/download-url",
        json={"file_key": item["key"]},
        headers=admin.headers,
    )
    assert gone.status_code == 404
    assert gone.json() == {
        "type": "not_found",
        "message": f"File with key {item['key']} was not found",
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "file_key must be a string"),
        ({"file_key": 3}, "file_key must be a string"),
        ({"file_key": "a.csv", "x": 1}, "property x should not exist"),
    ],
)
def test_file_key_bodies_are_validated(
    client: TestClient[Any], admin: Caller, body: dict[str, Any], message: str
) -> None:
    for method, path in (
        ("DELETE", "/admin/uploads"),
        ("POST", "/admin/uploads/download-url"),
    ):
        response = client.request(method, path, json=body, headers=admin.headers)
        assert response.status_code == 400
        assert response.json() == {"type": "invalid_data", "message": message}


@pytest.mark.parametrize(
    "key", ["../secrets.json", "/etc/passwd", "public/../../secrets.json", "a\\..\\b"]
)
def test_path_traversal_is_refused(
    client: TestClient[Any], admin: Caller, settings: Settings, key: str
) -> None:
    secrets_file = settings.data_path / "secrets.json"
    secrets_file.write_text("{}")

    for method, path in (
        ("DELETE", "/admin/uploads"),
        ("POST", "/admin/uploads/download-url"),
    ):
        response = client.request(
            method, path, json={"file_key": key}, headers=admin.headers
        )
        assert response.status_code == 400
        assert response.json()["type"] == "invalid_data"
    for raw_path in (
        "/uploads/..%2Fsecrets.json",
        "/uploads/public/..%2F..%2Fsecrets.json",
    ):
        assert client.get(raw_path).status_code == 404
    assert secrets_file.exists()


def test_an_uploaded_name_cannot_climb_out(
    client: TestClient[Any], admin: Caller, settings: Settings
) -> None:
    [item] = upload(client, admin, ("../../evil.sh", b"echo"), ("..", b""))[:1]

    assert item["key"].startswith("public/")
    assert item["key"].endswith("-evil.sh")
    assert not (settings.data_path / "evil.sh").exists()


def test_every_upload_route_needs_an_admin(client: TestClient[Any]) -> None:
    calls = [
        ("POST", "/admin/uploads"),
        ("POST", "/admin/uploads/protected"),
        ("DELETE", "/admin/uploads"),
        ("POST", "/admin/uploads/download-url"),
    ]
    for method, path in calls:
        response = client.request(method, path, json={"file_key": "a"})
        assert (response.status_code, response.text) == (401, "Unauthorized")


@pytest.mark.integration
def test_a_file_uploaded_through_one_process_is_served_by_another(
    settings: Settings,
    nats_url: str,  # noqa: F811 - the fixture imported above
    strategy: ScriptedStrategy,
) -> None:
    shared = msgspec.structs.replace(
        settings,
        nats_url=nats_url,
        file_store="nats",
        file_bucket=f"files_{uuid.uuid4().hex[:8]}",
    )
    first = Runtime(shared, registry=StrategyRegistry([strategy]))
    second = Runtime(shared, registry=StrategyRegistry([strategy]))
    with (
        TestClient(app=create_app(first)) as one,
        TestClient(app=create_app(second)) as other,
    ):
        caller = new_user(first)
        [item] = upload(one, caller, ("import.csv", CSV), protected=True)
        signed = download_url(one, caller, item["key"])

        assert other.get(path_of(signed)).content == CSV
        assert second.files.size(item["key"]) == len(CSV)


def test_openapi_documents_the_upload_routes(client: TestClient[Any]) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]

    body = paths["/admin/uploads"]["post"]["requestBody"]["content"]
    assert body["multipart/form-data"]["schema"]["required"] == ["files"]
    assert {"post", "delete"} <= set(paths["/admin/uploads"])
    assert "post" in paths["/admin/uploads/protected"]
    assert "post" in paths["/admin/uploads/download-url"]
    assert "get" in paths["/uploads/{key}"]
