"""GET /admin/jobstream/feed: job changes live, resumable, per role, and let go of."""

from __future__ import annotations

import time
from typing import cast

import httpx
import pytest

from domain.users import UserRole
from service.api_services.feed import EventFeed
from service.runtime import Runtime
from tests.api.operator.conftest import FlakyExport
from tests.api.operator.sse import (
    FeedStream,
    Message,
    ServedApp,
    completed,
    create_job,
    open_feed,
    wait_until_final,
)
from tests.support import FINAL, new_user


@pytest.fixture
def processing() -> bool:
    """A worker runs the jobs: a retried job must run to its end."""
    return True


DATA_KEYS = {"id", "type", "status", "version", "event", "created_by", "time", "result"}


def feed_of(served: ServedApp) -> EventFeed:
    return cast("EventFeed", served.app.state.services.feed)


def until_all_final(feed: FeedStream, job_ids: list[str]) -> list[Message]:
    left = set(job_ids)

    def done(message: Message) -> bool:
        if message.data["status"] in FINAL:
            left.discard(message.data["id"])
        return not left

    return feed.until(done)


def of_job(messages: list[Message], job_id: str) -> list[Message]:
    return [m for m in messages if m.data["id"] == job_id]


def test_a_jobs_events_arrive_in_order_as_it_runs(
    served: ServedApp, runtime: Runtime
) -> None:
    admin = new_user(runtime, "admin_user")

    with open_feed(served.url, admin) as feed:
        assert feed.response.status_code == 200
        assert feed.response.headers["content-type"].startswith("text/event-stream")
        assert feed.response.headers["cache-control"] == "no-cache"
        job_id = create_job(served.url, admin, {"pages": 2})
        messages = of_job(feed.until(completed(job_id)), job_id)

    assert [m.data["event"] for m in messages] == [
        "batch.created", "batch.updated", "batch.pre_processed", "batch.confirmed",
        "batch.processing", "batch.updated", "batch.updated", "batch.completed",
    ]  # fmt: skip
    assert [m.data["status"] for m in messages] == [
        "created", "created", "pre_processed", "confirmed",
        "processing", "processing", "processing", "completed",
    ]  # fmt: skip
    ids = [m.id for m in messages]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    versions = [m.data["version"] for m in messages]
    assert versions == sorted(versions) and versions[0] == 1
    assert all(m.event == "batch_job" and set(m.data) == DATA_KEYS for m in messages)
    last = messages[-1].data
    assert (last["type"], last["created_by"]) == ("product-export", admin.user.id)
    assert last["result"]["advancement_count"] == 2
    assert last["time"].endswith("Z")
    medusa = httpx.get(f"{served.url}/admin/batch-jobs/{job_id}", headers=admin.headers)
    assert last["result"] == medusa.json()["batch_job"]["result"]


def test_a_reconnect_resumes_after_its_last_event_with_no_gap_or_repeat(
    served: ServedApp, runtime: Runtime
) -> None:
    admin = new_user(runtime, "admin_user")
    with open_feed(served.url, admin) as first:
        job_id = create_job(served.url, admin, {"pages": 3})
        before = [first.next() for _ in range(3)]  # then the client goes away
    wait_until_final(served.url, admin, job_id)

    last_id = str(before[-1].id)
    with open_feed(served.url, admin, headers={"Last-Event-ID": last_id}) as second:
        after = second.until(completed(job_id))
    start = str(before[0].id - 1)
    with open_feed(served.url, admin, params={"after": start}) as whole:
        everything = whole.until(completed(job_id))
    # The header wins over the URL's `after` (EventSource keeps the URL it began with).
    with open_feed(
        served.url, admin, params={"after": start}, headers={"Last-Event-ID": last_id}
    ) as third:
        again = third.until(completed(job_id))

    assert [m.id for m in before + after] == [m.id for m in everything]
    assert before + after == everything
    assert again == after
    assert of_job(everything, job_id)[-1].data["event"] == "batch.completed"


def test_a_member_sees_only_their_own_jobs_and_an_admin_sees_all(
    served: ServedApp, runtime: Runtime
) -> None:
    admin = new_user(runtime, "admin_user")
    member = new_user(runtime, "member-user", UserRole.MEMBER)
    developer = new_user(runtime, "developer", UserRole.DEVELOPER)

    with (
        open_feed(served.url, admin) as admins,
        open_feed(served.url, member) as members,
        open_feed(served.url, developer) as developers,
    ):
        admin_job = create_job(served.url, admin, {})
        member_job = create_job(served.url, member, {})
        developer_job = create_job(served.url, developer, {})
        seen_by_admin = until_all_final(admins, [admin_job, member_job, developer_job])
        seen_by_member = members.until(completed(member_job))
        seen_by_developer = developers.until(completed(developer_job))

    assert {m.data["id"] for m in seen_by_admin} == {
        admin_job,
        member_job,
        developer_job,
    }
    assert {m.data["id"] for m in seen_by_member} == {member_job}
    assert {m.data["id"] for m in seen_by_developer} == {developer_job}


def test_one_job_can_be_followed_by_whoever_may_see_it(
    served: ServedApp, runtime: Runtime
) -> None:
    admin = new_user(runtime, "admin_user")
    member = new_user(runtime, "member-user", UserRole.MEMBER)
    admin_job = create_job(served.url, admin, {})
    member_job = create_job(served.url, member, {})
    wait_until_final(served.url, member, member_job)

    with open_feed(
        served.url, admin, params={"job_id": member_job, "after": "0"}
    ) as feed:
        followed = feed.until(completed(member_job))
    refused = httpx.get(
        f"{served.url}/admin/jobstream/feed", params={"job_id": admin_job},
        headers=member.headers,
    )  # fmt: skip
    missing = httpx.get(
        f"{served.url}/admin/jobstream/feed", params={"job_id": "batch_missing"},
        headers=admin.headers,
    )  # fmt: skip

    assert {m.data["id"] for m in followed} == {member_job}
    assert followed[0].data["event"] == "batch.created"
    assert (refused.status_code, refused.json()) == (400, {
        "type": "not_allowed",
        "message": "Cannot access a batch job that does not belong to the logged in user",
    })  # fmt: skip
    assert (missing.status_code, missing.json()) == (404, {
        "type": "not_found", "message": "Batch job with id batch_missing was not found",
    })  # fmt: skip


@pytest.mark.parametrize(
    ("params", "headers", "message"),
    [
        ({"after": "-1"}, {}, "after must be an event's position: a whole number, 0 or more"),
        ({"after": "ten"}, {}, "after must be an event's position: a whole number, 0 or more"),
        ({}, {"Last-Event-ID": "1e3"},
         "Last-Event-ID must be an event's position: a whole number, 0 or more"),
        ({"status": "failed"}, {}, "property status should not exist"),
    ],
)  # fmt: skip
def test_a_bad_position_or_parameter_is_refused(
    served: ServedApp,
    runtime: Runtime,
    params: dict[str, str],
    headers: dict[str, str],
    message: str,
) -> None:
    admin = new_user(runtime, "admin_user")

    response = httpx.get(
        f"{served.url}/admin/jobstream/feed", params=params,
        headers={**admin.headers, **headers},
    )  # fmt: skip

    assert (response.status_code, response.json()) == (
        400, {"type": "invalid_data", "message": message},
    )  # fmt: skip


def test_the_feed_needs_a_login(served: ServedApp) -> None:
    response = httpx.get(f"{served.url}/admin/jobstream/feed")

    assert (response.status_code, response.text) == (401, "Unauthorized")


def test_a_retry_shows_on_both_jobs(
    served: ServedApp, runtime: Runtime, strategy: FlakyExport
) -> None:
    admin = new_user(runtime, "admin_user")
    strategy.down = True
    failed = create_job(served.url, admin, {})
    wait_until_final(served.url, admin, failed)
    strategy.down = False

    with open_feed(served.url, admin) as feed:
        retried = httpx.post(
            f"{served.url}/admin/jobstream/jobs/{failed}/retry", headers=admin.headers
        ).json()["batch_job"]["id"]
        messages = feed.until(completed(retried))

    [link] = of_job(messages, failed)
    assert (link.data["event"], link.data["status"]) == ("batch.retried", "failed")
    assert of_job(messages, retried)[0].data["event"] == "batch.created"
    assert of_job(messages, retried)[-1].data["status"] == "completed"
    assert of_job(messages, retried)[0].id == link.id + 1  # saved together


def test_a_quiet_feed_sends_keep_alive_comments(
    served: ServedApp, runtime: Runtime
) -> None:
    admin = new_user(runtime, "admin_user")
    feed_of(served).keepalive_seconds = 0.2

    with open_feed(served.url, admin) as feed:
        lines = feed.response.iter_lines()
        first, blank = next(lines), next(lines)

    assert (first, blank) == (": keep-alive", "")


def test_a_client_that_goes_away_is_let_go(served: ServedApp, runtime: Runtime) -> None:
    admin = new_user(runtime, "admin_user")
    wakeups = feed_of(served).wakeups

    with open_feed(served.url, admin) as feed:
        job_id = create_job(served.url, admin, {})
        feed.until(completed(job_id))
        assert wakeups.readers == 1
    deadline = time.monotonic() + 5

    while wakeups.readers:
        assert time.monotonic() < deadline, "the reader's wake-up is still held"
        time.sleep(0.02)
    create_job(served.url, admin, {})  # a save with nobody reading costs nothing
    assert wakeups.readers == 0


def test_a_stopping_server_ends_its_feeds_at_once(
    served: ServedApp, runtime: Runtime
) -> None:
    admin = new_user(runtime, "admin_user")

    with open_feed(served.url, admin) as feed:
        started = time.monotonic()
        served.stop()
        with pytest.raises(EOFError):
            feed.next()  # the stream ended cleanly: no error, no message

    assert not served.thread.is_alive()
    assert time.monotonic() - started < 5  # not uvicorn's 10 s graceful timeout
