"""Old files leave each storage (local files, the NATS object store); files in use stay.

Through the API on every backend: an export, an abandoned upload and an upload an
unfinished import uses, swept by a sweeper whose clock runs ahead of the files.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from projections.read_models.known import BATCH_JOBS
from service.engine.clock import FakeClock
from service.files.retention import FileSweeper, sweeper_for
from tests.api.catalog.support import post
from tests.api.product_export.test_product_export import (
    collection,
    export_product,
    run_export,
)
from tests.api.product_import.support import start_import, upload
from tests.support import Caller, wait_for_status

if TYPE_CHECKING:
    from litestar.testing import TestClient

    from service.runtime import Runtime

SAMPLE = Path(__file__).parents[3] / "examples" / "products.csv"


def sweeper_at(runtime: Runtime, hours_ahead: float) -> FileSweeper:
    """The process's own sweeper, on a clock `hours_ahead` of now."""
    clock = FakeClock(datetime.now(UTC) + timedelta(hours=hours_ahead))
    return sweeper_for(
        runtime.settings,
        runtime.files,
        runtime.app,
        runtime.view,
        runtime.read_models[BATCH_JOBS.name].catch_up,
        clock=clock,
    )


def download_url(client: TestClient[Any], admin: Caller, key: str) -> Any:
    return post(client, admin, "/admin/uploads/download-url", {"file_key": key})


def test_old_files_go_and_young_and_in_use_ones_stay(
    client: TestClient[Any], runtime: Runtime, admin: Caller
) -> None:
    export_product(client, admin, collection(client, admin, "kept-for-a-week"))
    export = run_export(client, admin, {})
    export_key = export["result"]["file_key"]
    abandoned = upload(client, admin, "not imported", "abandoned.csv")
    used = upload(client, admin, SAMPLE.read_bytes(), "products.csv")
    importing = start_import(client, admin, used, dry_run=True)  # waits for a confirm
    preview = wait_for_status(client, admin, importing, ["pre_processed", "failed"])
    assert preview["status"] == "pre_processed", preview

    a_day_on = sweeper_at(runtime, 25).sweep()  # uploads are old, the export is not
    a_week_on = sweeper_at(runtime, 169).sweep()  # the export is old too

    # Kept in use: the upload the import names, and its instructions (named after it).
    assert (a_day_on.removed, a_day_on.kept_in_use) == ([abandoned], 2)
    assert (a_week_on.removed, a_week_on.kept_in_use) == ([export_key], 2)
    assert runtime.files.exists(used)  # its import is not final
    assert runtime.files.exists(f"imports/products/ops/{importing}.jsonl")
    assert not runtime.files.exists(export_key)
    gone = download_url(client, admin, export_key)
    assert gone.status_code == 404, gone.text
    assert gone.json()["type"] == "not_found"
    assert gone.json()["message"].startswith(
        f"File with key {export_key} was not found: it was removed on "
    )
    assert gone.json()["message"].endswith(
        ", 168 hours after it was stored (files are kept for a limited time)"
    )
    assert (
        download_url(client, admin, abandoned)
        .json()["message"]
        .endswith(", 24 hours after it was stored (files are kept for a limited time)")
    )
    # The job is as it was; the file it names is what went.
    job = client.get(f"/admin/batch-jobs/{export['id']}", headers=admin.headers).json()
    assert (job["batch_job"]["status"], job["batch_job"]["result"]["file_key"]) == (
        "completed",
        export_key,
    )
    assert download_url(client, admin, used).status_code == 200


def test_a_file_never_stored_still_answers_the_plain_not_found(
    client: TestClient[Any], admin: Caller
) -> None:
    missing = download_url(client, admin, "exports/products/never-there.csv")

    assert missing.status_code == 404
    assert missing.json() == {
        "type": "not_found",
        "message": "File with key exports/products/never-there.csv was not found",
    }
