"""What the partition tests drive and check: jobs over HTTP, histories in the store."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import httpx
import nats
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import ServiceUnavailableError

from service.engine.jetstream import STEPS
from service.stream_names import consumer_name
from tests.integration.faults import (
    check_history,
    check_stream,
    history_report,
    stored_event_names,
)
from tests.integration.partition import plugins
from tests.integration.partition.topology import TOKEN
from tests.support import named

if TYPE_CHECKING:
    from collections.abc import Callable

    from nats.js.api import ClusterInfo

    from service.application import Jobstream
    from service.settings import Settings

FINAL = {"completed", "failed", "canceled"}
T = TypeVar("T")
JETSTREAM_BUSY = (NatsTimeoutError, ServiceUnavailableError)


def api_client(url: str, timeout: float = 30.0) -> httpx.Client:
    return httpx.Client(
        base_url=url, headers={"x-medusa-access-token": TOKEN}, timeout=timeout
    )


class Answer(NamedTuple):
    path: str
    status: int | None  # None: no answer within the timeout
    seconds: float
    body: Any


def timed_get(url: str, path: str, timeout: float) -> Answer:
    started = time.monotonic()
    with api_client(url, timeout=timeout) as client:
        try:
            response = client.get(path)
        except httpx.TimeoutException:
            return Answer(path, None, time.monotonic() - started, None)
    seconds = time.monotonic() - started
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return Answer(path, response.status_code, seconds, body)


def create_jobs(client: httpx.Client, jobs: int, pages: int, sleep: float) -> list[str]:
    """Scripted jobs: `pages` steps of `sleep` seconds each, auto-confirmed."""
    context = {"pages": pages, "sleep": sleep}
    return create_typed(client, jobs, plugins.SCRIPTED, context)


def create_exports(client: httpx.Client, jobs: int, page_size: int) -> list[str]:
    """Real product exports of the catalog: their files go to the R3 bucket."""
    return create_typed(client, jobs, "product-export", {"limit": page_size})


def create_typed(
    client: httpx.Client, jobs: int, batch_type: str, context: dict[str, Any]
) -> list[str]:
    ids = []
    for _ in range(jobs):
        created = client.post(
            "/admin/batch-jobs",
            json={"type": batch_type, "dry_run": False, "context": context},
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["batch_job"]["id"])
    return ids


class Count(NamedTuple):
    products: int  # a tuple, so that a count of 0 is still an answer to `until`


def more_until(
    create: Callable[[], list[str]],
    condition: Callable[[list[str]], bool],
    seconds: float,
) -> list[str]:
    """Jobs from `create`, called again every second until `condition(jobs)` holds."""
    deadline, ids = time.monotonic() + seconds, create()
    while not condition(ids):
        assert time.monotonic() < deadline, f"not within {seconds} s"
        time.sleep(1)
        ids += create()
    return ids


def seed_products(client: httpx.Client, products: int) -> None:
    for n in range(products):
        body = {
            "title": f"Seeded {n}",
            "variants": [
                {"title": "One", "prices": [{"currency_code": "usd", "amount": 100}]}
            ],
        }
        created = client.post("/admin/products", json=body)
        assert created.status_code == 200, created.text


def product_count(client: httpx.Client) -> Count | None:
    """The catalog's count; None while it answers 503 (it says: retry)."""
    response = client.get("/admin/products", params={"limit": 1})
    if response.status_code == 503:
        return None
    assert response.status_code == 200, response.text
    return Count(int(response.json()["count"]))


def read_job(client: httpx.Client, job_id: str) -> dict[str, Any] | None:
    """The job as GET answers it; None while it answers 503 (it says: retry)."""
    answer = client.get(f"/admin/batch-jobs/{job_id}")
    if answer.status_code == 503:
        return None
    assert answer.status_code == 200, answer.text
    job: dict[str, Any] = answer.json()["batch_job"]
    return job


def start_import(client: httpx.Client, rows: int) -> str:
    """A product import of `rows` new products, pre-processed and confirmed."""
    header = "Product Handle,Product Title,Variant Title,Variant SKU,Price USD\n"
    tag = uuid.uuid4().hex[:6]
    lines = (f"{tag}-{n},Product {n},One,{tag}-{n},{n % 90 + 1}\n" for n in range(rows))
    csv = (header + "".join(lines)).encode()
    uploaded = client.post(
        "/admin/uploads/protected", files=[("files", ("products.csv", csv, "text/csv"))]
    )
    assert uploaded.status_code == 200, uploaded.text
    key = uploaded.json()["uploads"][0]["key"]
    created = client.post(
        "/admin/batch-jobs",
        json={"type": "product-import", "context": {"fileKey": key}, "dry_run": True},
    )
    assert created.status_code == 201, created.text
    job_id: str = created.json()["batch_job"]["id"]

    def pre_processed() -> bool:
        job = read_job(client, job_id)
        if job is None:
            return False
        assert job["status"] not in FINAL, job
        return bool(job["status"] == "pre_processed")

    until(pre_processed, 60, "the import pre-processed")
    confirmed = client.post(f"/admin/batch-jobs/{job_id}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    return job_id


def until(condition: Callable[[], T | None], seconds: float, what: str) -> T:
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.05)
    return value


def status(app: Jobstream, job_id: str) -> str:
    return app.get_batch_job(job_id).status.value


def all_final(app: Jobstream, ids: list[str]) -> bool:
    return all(status(app, job_id) in FINAL for job_id in ids)


def until_all_final(
    app: Jobstream, settings: Settings, ids: list[str], seconds: float, what: str
) -> None:
    """Wait for every job's end; past `seconds`, fail with the history of each open
    one and what the stream and its work consumers hold (where a message waits)."""
    try:
        until(lambda: all_final(app, ids), seconds, what)
    except AssertionError as error:
        open_jobs = [job_id for job_id in ids if status(app, job_id) not in FINAL]
        reports = "\n\n".join(
            f"{job_id} ({status(app, job_id)}):\n{history_report(app, job_id)}"
            for job_id in open_jobs
        )
        work = work_state(settings)
        raise AssertionError(f"{error}; still open:\n{reports}\n\n{work}") from None


def work_state(settings: Settings) -> str:
    """The work stream's and each work consumer's state, one line each, or why not."""
    try:
        return asyncio.run(asyncio.wait_for(_work_state(settings), 20))
    except Exception as error:  # noqa: BLE001 - a report, not a check
        return f"work state not read: {error!r}"


async def _work_state(settings: Settings) -> str:
    assert settings.nats_url is not None
    connection = await nats.connect(settings.nats_url.split(","), connect_timeout=2)
    try:
        js = connection.jetstream()
        stream = await js.stream_info(settings.nats_stream)
        lines = [
            (
                f"stream {settings.nats_stream}: leader {_leader(stream.cluster)},"
                f" seq {stream.state.first_seq}..{stream.state.last_seq},"
                f" {stream.state.messages} messages"
            )
        ]
        for event in STEPS:
            name = consumer_name(settings.worker_durable, event)
            info = await js.consumer_info(settings.nats_stream, name)
            delivered = info.delivered.stream_seq if info.delivered else None
            floor = info.ack_floor.stream_seq if info.ack_floor else None
            lines.append(
                f"consumer {name}: leader {_leader(info.cluster)},"
                f" delivered {delivered}, ack floor {floor},"
                f" pending {info.num_pending}, ack pending {info.num_ack_pending},"
                f" redelivered {info.num_redelivered}, waiting {info.num_waiting}"
            )
        return "\n".join(lines)
    finally:
        await connection.close()


def _leader(cluster: ClusterInfo | None) -> str | None:
    return cluster.leader if cluster is not None else None


def versions(app: Jobstream, ids: list[str]) -> dict[str, int]:
    return {job_id: len(stored_event_names(app, job_id)) for job_id in ids}


def actors(app: Jobstream, job_id: str, event: str) -> list[str]:
    return [
        actor
        for name, actor in named(app.repository.event_store.get(job_id))
        if name == event
    ]


def taken_by(app: Jobstream, job_id: str, pid: int) -> bool:
    """The worker process `pid` took a lease of the job."""
    return any(
        actor.endswith(f":{pid}") for actor in actors(app, job_id, "batch.lease_taken")
    )


def held_by(app: Jobstream, job_id: str, pid: int) -> bool:
    """The job is processing on the lease of the worker process `pid`."""
    taken = actors(app, job_id, "batch.lease_taken")
    return (
        status(app, job_id) == "processing"
        and bool(taken)
        and taken[-1].endswith(f":{pid}")
    )


def settled_and_whole(
    app: Jobstream, settings: Settings, ids: list[str], quiet_seconds: float
) -> None:
    """Issue 14's "Done when", per job: completed, once each, and nothing after.

    Every job completed as it would have without the cut, its history has each step
    once and ends `Completed`, no event was appended during `quiet_seconds` after all
    had ended (a stale worker's late write would be), and the stream holds each stored
    event once.
    """
    jobs = {job_id: app.get_batch_job(job_id) for job_id in ids}
    unfinished = {
        job_id: (job.status.value, (job.result or {}).get("errors"))
        for job_id, job in jobs.items()
        if job.status.value != "completed"
    }
    assert not unfinished, unfinished
    ended = versions(app, ids)
    time.sleep(quiet_seconds)
    assert versions(app, ids) == ended, "a finished job gained an event"
    for job_id in ids:
        check_history(app, job_id)
    check_stream_once(settings, app, ids)


def check_stream_once(
    settings: Settings, app: Jobstream, ids: list[str], seconds: float = 30
) -> None:
    """faults.check_stream, asked again while JetStream elects (the test's own reads)
    or while the relays have not published the last events yet: the leadership may
    be between relays when the jobs end (a lease lapses before another is taken).
    """
    deadline = time.monotonic() + seconds
    while True:
        try:
            asyncio.run(check_stream(settings, app, ids))
        except (*JETSTREAM_BUSY, AssertionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
        else:
            return
