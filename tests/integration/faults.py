"""Shared by the fault tests: many exports in flight, and what each job left behind."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import TYPE_CHECKING

from domain.batch_jobs import BatchJobStatus
from domain.strategies import BatchJobDraft
from service.http.catalog.product_bodies import validate_create
from tests.integration.test_relay import stream_messages

if TYPE_CHECKING:
    from collections.abc import Callable

    from service.application import Jobstream
    from service.files.storage import FileStorage
    from service.runtime import Runtime
    from service.settings import Settings

FINAL = {BatchJobStatus.COMPLETED, BatchJobStatus.FAILED, BatchJobStatus.CANCELED}


def seed_catalog(keeper: Runtime, products: int) -> None:
    """`products` products of one variant each, in the catalog read model."""
    keeper.catalog.ensure_store()
    changes = keeper.catalog.changes("usr_seed")
    for n in range(products):
        body = {
            "title": f"Product {n}",
            "variants": [
                {"title": "One", "prices": [{"currency_code": "usd", "amount": 100}]}
            ],
        }
        keeper.catalog.create_product(changes, validate_create(body))
    keeper.catalog_reads.settle(changes.save())


def create_exports(keeper: Runtime, jobs: int, page_size: int) -> list[str]:
    """`jobs` product exports of the whole catalog, `page_size` products a page."""
    strategy = keeper.registry.get("product-export")
    draft = strategy.prepare_batch_job_for_processing(
        BatchJobDraft(
            type="product-export", context={"limit": page_size}, dry_run=False
        ),
        "usr_1",
    )
    return [keeper.app.create_batch_job(draft, "usr_1")[0].id for _ in range(jobs)]


async def until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        await asyncio.sleep(0.05)


def statuses(keeper: Runtime, job_ids: list[str]) -> Counter[str]:
    return Counter(keeper.app.get_batch_job(job).status.value for job in job_ids)


def all_final(keeper: Runtime, job_ids: list[str]) -> bool:
    return all(keeper.app.get_batch_job(job).status in FINAL for job in job_ids)


def stored_event_names(app: Jobstream, job_id: str) -> list[tuple[int, str]]:
    """(version, event class) of every event the store holds for the job."""
    return [
        (stored.originator_version, stored.topic.rpartition(".")[2])
        for stored in app.recorder.select_events(job_id)
    ]


def check_history(app: Jobstream, job_id: str) -> None:
    """One history per job: each step once, completed once, no event twice."""
    history = stored_event_names(app, job_id)
    versions = [version for version, _ in history]
    assert versions == list(range(1, len(versions) + 1)), history
    names = [name for _, name in history]
    for once in (
        "Created",
        "PreProcessed",
        "Confirmed",
        "ProcessingStarted",
        "Completed",
    ):
        assert names.count(once) == 1, (job_id, once, names)
    assert names[-1] == "Completed", names
    assert "Failed" not in names


async def check_stream(settings: Settings, app: Jobstream, job_ids: list[str]) -> None:
    """Every stored event of each job reached the stream once: none lost, none twice."""
    messages = await stream_messages(settings)
    published = Counter(
        (message.job_id, message.job_version) for _, message, _ in messages
    )
    for job_id in job_ids:
        versions = [version for version, _ in stored_event_names(app, job_id)]
        mine = {key: n for key, n in published.items() if key[0] == job_id}
        assert mine == {(job_id, version): 1 for version in versions}, job_id


def check_files(
    app: Jobstream, files: FileStorage, job_ids: list[str], products: int
) -> None:
    """Each job's file is whole: a header and a line per product."""
    for job_id in job_ids:
        result = app.get_batch_job(job_id).result or {}
        content = b"".join(files.open_reader(result["file_key"]).chunks())
        lines = [line for line in content.decode().split("\r\n") if line]
        assert len(lines) == 1 + products, job_id
        assert result["file_size"] == len(content)
