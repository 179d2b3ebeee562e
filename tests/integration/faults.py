"""Shared by the fault tests: many exports in flight, and what each job left behind."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import TYPE_CHECKING

import nats
from nats.js.errors import NotFoundError

from domain.batch_jobs import BatchJob, BatchJobStatus
from domain.leases import LeaseStep
from domain.strategies import BatchJobDraft
from service.http.catalog.product_bodies import validate_create
from service.messaging.redrive import is_copy
from service.settings import nats_servers
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


def create_exports(
    keeper: Runtime, jobs: int, page_size: int, *, dry_run: bool = False
) -> list[str]:
    """`jobs` product exports of the whole catalog, `page_size` products a page."""
    strategy = keeper.registry.get("product-export")
    draft = strategy.prepare_batch_job_for_processing(
        BatchJobDraft(
            type="product-export", context={"limit": page_size}, dry_run=dry_run
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
        assert names.count(once) == 1, (once, history_report(app, job_id))
    assert names[-1] == "Completed", history_report(app, job_id)
    assert "Failed" not in names, history_report(app, job_id)


async def check_stream(settings: Settings, app: Jobstream, job_ids: list[str]) -> None:
    """Every stored event of each job reached the stream once: none lost, none twice.

    A redrive's copy of a job's work (service.messaging.redrive) is not the relay's
    publish: it is left out of the count.
    """
    messages = await stream_messages(settings)
    published = Counter(
        (message.job_id, message.job_version)
        for _, message, headers in messages
        if not is_copy(headers.get("Nats-Msg-Id", ""))
    )
    for job_id in job_ids:
        versions = [version for version, _ in stored_event_names(app, job_id)]
        mine = {key[1]: n for key, n in published.items() if key[0] == job_id}
        # Said in full when it fails: a version missing, or on the stream twice.
        assert mine == dict.fromkeys(versions, 1), (job_id, mine, versions)


def history_report(app: Jobstream, job_id: str) -> str:
    """Every stored event of the job, one a line: what a failed check prints.

    Each line: version, event, its actor, the processing attempt it was written
    under (the lease count, the fencing token), and the result's file_key after it.
    """
    lines: list[str] = []
    for stored in app.recorder.select_events(job_id):
        event = app.mapper.to_domain_event(stored)
        job: BatchJob = app.repository.get(job_id, version=stored.originator_version)
        payload = {
            name: getattr(event, name)
            for name in ("holder", "step", "result", "unset_result", "error")
            if getattr(event, name, None) not in (None, [], {})
        }
        lines.append(
            f"v{stored.originator_version} {type(event).__name__}"
            f" actor={getattr(event, 'actor', '?')}"
            f" attempt={job.attempts_at(LeaseStep.PROCESSING)}"
            f" file_key={(job.result or {}).get('file_key')} {payload}"
        )
    return "\n".join(lines)


async def bucket_keys(settings: Settings) -> list[str]:
    """The names of the files the NATS bucket holds (deleted ones left out)."""
    assert settings.nats_url is not None
    connection = await nats.connect(nats_servers(settings.nats_url))
    try:
        store = await connection.jetstream().object_store(settings.file_bucket)
        try:
            infos = await store.list(ignore_deletes=True)
        except NotFoundError:
            return []  # nats-py's answer for an empty bucket
        return sorted(info.name for info in infos)
    finally:
        await connection.close()


def check_files(
    app: Jobstream,
    files: FileStorage,
    job_ids: list[str],
    products: int,
    stored_keys: list[str] | None = None,
) -> None:
    """Each job's file is whole: a header and a line per product.

    `stored_keys` (the storage's listing) is printed with the job's history if not.
    """
    for job_id in job_ids:
        result = app.get_batch_job(job_id).result or {}
        key = result.get("file_key")
        assert isinstance(key, str) and files.exists(key), (
            f"job {job_id}: file_key {key!r} is not stored\n"
            f"{history_report(app, job_id)}\n"
            f"stored: {[k for k in stored_keys or [] if job_id in k]}"
        )
        content = b"".join(files.open_reader(key).chunks())
        lines = [line for line in content.decode().split("\r\n") if line]
        assert len(lines) == 1 + products, job_id
        assert result["file_size"] == len(content)
