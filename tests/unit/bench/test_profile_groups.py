"""bench/profile_groups.py: a collapsed stack counts for the first part it is in."""

from __future__ import annotations

from typing import Any

ROOT = 'process 7:"jobstream serve";thread (0x7f01)'
RELAY_SAVE = (
    f"{ROOT};run (/w/service/messaging/relay.py:120);"
    "insert_events (/v/site-packages/eventsourcing/postgres.py:600) 3"
)
ROUND = (
    f"{ROOT};run (/w/service/read_models/host.py:50);"
    "apply (/w/projections/batch_jobs/view.py:180);"
    "execute (/v/site-packages/psycopg/cursor.py:700) 5"
)
HANDLER = (
    f"{ROOT};run (/v/site-packages/uvicorn/server.py:60);"
    "create (/w/service/http/batch_jobs.py:90) 2"
)
# The relay on the loop uvicorn runs (`serve`): the relay's, not HTTP's.
RELAY_ON_THE_LOOP = (
    f"{ROOT};run (/v/site-packages/uvicorn/server.py:60);"
    "_run_once (/usr/lib/python3.11/asyncio/base_events.py:1900);"
    "publish_once (/w/service/messaging/relay.py:150) 7"
)


def test_a_stack_counts_for_the_first_part_it_is_in(profile_groups: Any) -> None:
    samples = profile_groups.shares([RELAY_SAVE, ROUND, HANDLER, RELAY_ON_THE_LOOP])
    assert samples == {"relay": 3 + 7, "read models": 5, "HTTP": 2}


def test_a_stack_of_no_known_part_is_other_and_a_bad_line_is_skipped(
    profile_groups: Any,
) -> None:
    lines = [f"{ROOT};sleep (/usr/lib/python3.11/threading.py:320) 4", "garbage", ""]
    assert profile_groups.shares(lines) == {"other": 4}
