"""Files have owners: uploads, exports and error reports are their creator's.

Every user, admins included, reads, deletes and imports only their own files; admins
also the files stored before owners were recorded.
Every backend: embedded, PostgreSQL, PostgreSQL with NATS (worker and object store).
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from domain.files import FileNotYoursError, FileOwner
from domain.users import UserRole
from service.audit import history
from service.files.owners import FileOwners
from service.runtime import Runtime
from tests.api.catalog.support import post
from tests.api.product_import.support import start_import, upload
from tests.support import Caller, new_user, wait_for_status

HEADER = "Product Handle,Product Title,Variant Id,Variant Title,Variant SKU,Price USD\n"
CSV = HEADER + "shirt,Shirt,,V,sku-shirt,1\n"
NOT_YOURS = "File {} belongs to another user"


@pytest.fixture
def alice(runtime: Runtime, client: TestClient[Any]) -> Caller:
    return new_user(runtime, "alice", UserRole.MEMBER)


@pytest.fixture
def bob(runtime: Runtime, client: TestClient[Any]) -> Caller:
    return new_user(runtime, "bob", UserRole.DEVELOPER)


def download_url(client: TestClient[Any], caller: Caller, key: str) -> Any:
    return post(client, caller, "/admin/uploads/download-url", {"file_key": key})


def delete_file(client: TestClient[Any], caller: Caller, key: str) -> Any:
    return client.request(
        "DELETE", "/admin/uploads", json={"file_key": key}, headers=caller.headers
    )


def create_import(client: TestClient[Any], caller: Caller, key: str) -> Any:
    body = {"type": "product-import", "context": {"fileKey": key}}
    return post(client, caller, "/admin/batch-jobs", body)


def not_yours(key: str) -> dict[str, str]:
    return {"type": "not_allowed", "message": NOT_YOURS.format(key)}


def finished_export(client: TestClient[Any], caller: Caller) -> dict[str, Any]:
    body = {"type": "product-export", "context": {}}
    response = post(client, caller, "/admin/batch-jobs", body)
    assert response.status_code == 201, response.text
    job = wait_for_status(client, caller, response.json()["batch_job"]["id"])
    assert job["status"] == "completed", job
    return job


def test_another_user_gets_no_download_url_for_a_protected_upload(
    client: TestClient[Any], runtime: Runtime, alice: Caller, bob: Caller
) -> None:
    key = upload(client, alice, CSV)
    [recorded] = history.history(runtime.app, FileOwner.id_for(key))
    assert (recorded.actor, recorded.payload) == (
        alice.user.id,
        {"owner": alice.user.id},
    )

    refused = download_url(client, bob, key)

    assert (refused.status_code, refused.json()) == (400, not_yours(key))
    assert download_url(client, alice, key).status_code == 200


def test_another_user_cannot_delete_an_upload(
    client: TestClient[Any], runtime: Runtime, alice: Caller, bob: Caller
) -> None:
    key = upload(client, alice, CSV)

    refused = delete_file(client, bob, key)

    assert (refused.status_code, refused.json()) == (400, not_yours(key))
    assert runtime.files.exists(key)
    assert delete_file(client, alice, key).status_code == 200
    assert not runtime.files.exists(key)


def test_another_users_export_file_is_refused_as_an_import_and_kept(
    client: TestClient[Any], runtime: Runtime, alice: Caller, bob: Caller
) -> None:
    export = finished_export(client, alice)
    key = export["result"]["file_key"]
    [recorded] = history.history(runtime.app, FileOwner.id_for(key))
    assert (recorded.name, recorded.actor, recorded.payload) == (
        "file_owner.created",
        f"batch:{export['id']}",
        {"owner": alice.user.id},
    )

    refused = create_import(client, bob, key)

    assert (refused.status_code, refused.json()) == (400, not_yours(key))
    assert runtime.files.exists(key)
    assert download_url(client, bob, key).status_code == 400
    assert download_url(client, alice, key).status_code == 200


def test_an_import_of_ones_own_upload_still_works_and_deletes_it(
    client: TestClient[Any], runtime: Runtime, bob: Caller
) -> None:
    key = upload(client, bob, CSV)

    job = wait_for_status(client, bob, start_import(client, bob, key), timeout=30)

    assert job["status"] == "completed", job
    assert not runtime.files.exists(key)


def test_another_users_error_report_is_refused(
    client: TestClient[Any], runtime: Runtime, alice: Caller, bob: Caller
) -> None:
    bad = HEADER.replace("Price USD", "Price USD,Bogus Column") + "a,A,,V,s,1,x\n"
    job_id = start_import(client, alice, upload(client, alice, bad))
    job = wait_for_status(client, alice, job_id, timeout=30)
    report = job["result"]["error_report_file_key"]
    assert runtime.files.exists(report)

    refused = download_url(client, bob, report)

    assert (refused.status_code, refused.json()) == (400, not_yours(report))
    assert download_url(client, alice, report).status_code == 200


def test_an_admin_may_not_use_another_users_file(
    client: TestClient[Any], runtime: Runtime, admin: Caller, alice: Caller
) -> None:
    key = upload(client, alice, CSV)
    admins_export = finished_export(client, admin)["result"]["file_key"]

    for response in (
        download_url(client, admin, key),
        delete_file(client, admin, key),
        create_import(client, admin, key),
        download_url(client, alice, admins_export),
        delete_file(client, alice, admins_export),
    ):
        assert response.status_code == 400, response.text
        assert response.json()["type"] == "not_allowed"
    assert runtime.files.exists(key)
    assert runtime.files.exists(admins_export)


def test_a_file_stored_before_owners_were_recorded_is_for_admins_only(
    client: TestClient[Any], runtime: Runtime, admin: Caller, alice: Caller
) -> None:
    key = "protected/1700000000000-legacy.csv"
    runtime.files.put(key, [CSV.encode()])
    message = (
        f"File {key} has no recorded owner (it was stored before file owners were "
        "recorded): only an admin may use it"
    )

    for response in (
        download_url(client, alice, key),
        delete_file(client, alice, key),
        create_import(client, alice, key),
    ):
        assert response.json() == {"type": "not_allowed", "message": message}
    assert runtime.files.exists(key)
    assert download_url(client, admin, key).status_code == 200
    job = wait_for_status(client, admin, start_import(client, admin, key), timeout=30)
    assert job["status"] == "completed", job
    assert runtime.files.exists(key)  # owned by no one: never deleted by an import


def test_a_missing_file_keeps_its_usual_answers(
    client: TestClient[Any], alice: Caller
) -> None:
    key = "protected/1700000000000-never-stored.csv"

    assert download_url(client, alice, key).json() == {
        "type": "not_found",
        "message": f"File with key {key} was not found",
    }
    assert delete_file(client, alice, key).status_code == 200
    created = create_import(client, alice, key)
    assert created.status_code == 201, created.text
    job = wait_for_status(client, alice, created.json()["batch_job"]["id"])
    assert job["status"] == "failed"
    assert f"File with key {key} was not found" in job["result"]["errors"][0]


def test_a_file_still_being_written_cannot_be_taken_by_another_user(
    client: TestClient[Any], runtime: Runtime, alice: Caller, bob: Caller
) -> None:
    """Alice's owner is recorded before her file appears; Bob races for the key."""
    key = "protected/1700000000000-in-flight.csv"
    FileOwners(runtime.app).record(key, alice.user.id, alice.user.id)

    assert download_url(client, bob, key).status_code == 404  # as for any missing key
    assert delete_file(client, bob, key).status_code == 200
    created = create_import(client, bob, key)
    assert created.status_code == 201, created.text
    runtime.files.put(key, [CSV.encode()])  # Alice's write completes
    job = wait_for_status(client, bob, created.json()["batch_job"]["id"])

    assert job["status"] == "failed"
    assert job["result"]["errors"][0] == NOT_YOURS.format(key)
    assert runtime.files.exists(key)
    assert download_url(client, bob, key).json() == not_yours(key)


def test_a_key_never_changes_hands(
    runtime: Runtime, alice: Caller, bob: Caller
) -> None:
    owners = FileOwners(runtime.app)
    key = "exports/products/product-export-1-batch_x.csv"
    owners.record(key, alice.user.id, "batch:batch_x")

    owners.record(key, alice.user.id, "batch:batch_x")  # a retried attempt: a no-op
    with pytest.raises(FileNotYoursError):
        owners.record(key, bob.user.id, bob.user.id)

    assert owners.owner_of(key) == alice.user.id
    assert len(runtime.app.recorder.select_events(FileOwner.id_for(key))) == 1
