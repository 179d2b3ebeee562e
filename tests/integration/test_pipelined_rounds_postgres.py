"""A read model's round on PostgreSQL goes out in one pipeline, large or failing.

The rows, counts, tracking and NOTIFY of a round are queued and sent with the commit
(projections.pipelined). A round of several MB must still commit (eventsourcing's
pipelined save of that size hangs, ADR 004), and a position recorded twice must still
be refused as eventsourcing's IntegrityError, with nothing of the round kept.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any, cast

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from domain.batch_jobs import BatchJob
from projections.read_models.known import BATCH_JOBS
from service.stores import infrastructure
from tests.conftest import make_settings

pytestmark = pytest.mark.integration
UPSTREAM = "Jobstream"


def new_job(context: dict[str, Any]) -> tuple[BatchJob, list[BatchJob.Event]]:
    job = BatchJob.create(
        batch_type="product-export", created_by="usr_1", context=context,
        dry_run=True, actor="usr_1",
    )  # fmt: skip
    return job, cast("list[BatchJob.Event]", job.collect_events())


def test_a_round_of_several_megabytes_commits_and_a_repeat_is_refused(
    postgres_url: str, tmp_path: Path
) -> None:
    factory = infrastructure(make_settings(tmp_path, postgres_url), "pipelined", 1)
    view: Any = factory.tracking_recorder(BATCH_JOBS.view_class("postgres"))
    big = {"rows": ["x" * 1000] * 6000}  # about 6 MB of JSON
    job, created = new_job(big)
    job.update("usr_1", result={"errors": ["e" * 1000] * 3000})
    updated = cast("list[BatchJob.Event]", job.collect_events())
    other, other_created = new_job({"small": True})
    with contextlib.closing(factory):
        view.apply_events(created + updated, Tracking(UPSTREAM, 2))

        with pytest.raises(IntegrityError):  # the position is recorded already
            view.apply_events(other_created, Tracking(UPSTREAM, 2))

        found = view.get_document(job.id)
        assert found is not None
        document = json.loads(found[1])
        assert document["context"] == big
        assert len(document["result"]["errors"]) == 3000
        assert view.get_document(other.id) is None  # its round was rolled back
        assert view.max_tracking_id(UPSTREAM) == 2
