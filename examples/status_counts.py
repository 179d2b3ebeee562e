"""An example subscriber: a count of batch jobs per status, kept in its own SQLite file.

It reads Jobstream's event stream with a durable JetStream pull consumer and folds
each event into its read model. It survives restarts without counting twice: the
stream sequence of the last message it applied is saved in the same SQLite
transaction as the counts, and a message at or below it (a redelivery after a crash
between commit and ack) is acknowledged without being applied again. Needs only
nats-py and the standard library:

    python examples/status_counts.py --nats nats://127.0.0.1:4222 --db counts.sqlite
    python examples/status_counts.py --db counts.sqlite --show

The stream carries every event from the first (the relay publishes the whole log, and
`jobstream relay replay` republishes it under a new prefix), so a new subscriber starts
from the beginning with DeliverPolicy.ALL, the default of a new durable consumer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sqlite3
from pathlib import Path
from typing import Any

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

# The event that sets each status (docs/events.md, "What is published").
STATUS_OF_EVENT = {
    "batch.created": "created",
    "batch.pre_processed": "pre_processed",
    "batch.confirmed": "confirmed",
    "batch.processing": "processing",
    "batch.completed": "completed",
    "batch.canceled": "canceled",
    "batch.failed": "failed",
}
# Medusa's precedence: a job's status is the furthest of these it reached.
ORDER = list(STATUS_OF_EVENT.values())
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS jobs (job_id TEXT PRIMARY KEY, status TEXT NOT NULL)",
    (
        "CREATE TABLE IF NOT EXISTS position (id INTEGER PRIMARY KEY CHECK (id = 1), "
        "stream_seq INTEGER NOT NULL)"
    ),
)


class StatusCounts:
    """The read model: each job's status; counts are a GROUP BY over it."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        for statement in SCHEMA:
            self.db.execute(statement)

    def last_sequence(self) -> int:
        row = self.db.execute("SELECT stream_seq FROM position").fetchone()
        return int(row[0]) if row else 0

    def apply(self, stream_seq: int, message: dict[str, Any]) -> bool:
        """Fold one message and record its sequence atomically; False if seen before."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if stream_seq <= self.last_sequence():
                self.db.execute("ROLLBACK")
                return False
            status = STATUS_OF_EVENT.get(message["event"])
            if status is not None:
                self._set_status(message["job_id"], status)
            self.db.execute(
                "INSERT INTO position (id, stream_seq) VALUES (1, ?) "
                "ON CONFLICT (id) DO UPDATE SET stream_seq = excluded.stream_seq",
                [stream_seq],
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return True

    def _set_status(self, job_id: str, status: str) -> None:
        row = self.db.execute(
            "SELECT status FROM jobs WHERE job_id = ?", [job_id]
        ).fetchone()
        if row is not None and ORDER.index(row[0]) > ORDER.index(status):
            return  # e.g. failed stays failed
        self.db.execute(
            "INSERT INTO jobs (job_id, status) VALUES (?, ?) "
            "ON CONFLICT (job_id) DO UPDATE SET status = excluded.status",
            [job_id, status],
        )

    def counts(self) -> dict[str, int]:
        rows = self.db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status")
        return {status: int(n) for status, n in rows}

    def close(self) -> None:
        self.db.close()


async def follow(  # noqa: PLR0913 - the subscriber's settings, all by name
    *,
    nats_url: str,
    stream: str,
    subject_prefix: str,
    durable: str,
    model: StatusCounts,
    stop: asyncio.Event,
    batch: int = 100,
) -> None:
    """Fetch, apply, ack until `stop` is set."""
    nc = await nats.connect(nats_url, name=f"example-{durable}")
    try:
        js = nc.jetstream()
        subscription = await js.pull_subscribe(
            f"{subject_prefix}.batch.>",
            durable=durable,
            stream=stream,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL
            ),
        )
        while not stop.is_set():
            try:
                messages = await subscription.fetch(batch, timeout=0.5)
            except TimeoutError:
                # Nothing new within the timeout. nats-py raises its own TimeoutError
                # or, from deeper in fetch, asyncio's (the builtin): catch the builtin,
                # which both are.
                continue
            for msg in messages:
                model.apply(msg.metadata.sequence.stream, json.loads(msg.data))
                await msg.ack()  # after the commit: a crash before it redelivers
    finally:
        # Acks are sent before closing; one lost anyway is redelivered and skipped.
        await nc.flush()
        await nc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    parser.add_argument("--stream", default="JOBSTREAM")
    parser.add_argument("--subject-prefix", default="jobstream")
    parser.add_argument("--durable", default="status-counts")
    parser.add_argument("--db", type=Path, default=Path("status-counts.sqlite"))
    parser.add_argument("--show", action="store_true", help="print counts and exit")
    args = parser.parse_args()
    model = StatusCounts(args.db)
    if args.show:
        print(json.dumps(model.counts(), indent=2))  # noqa: T201
        return

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await follow(
            nats_url=args.nats, stream=args.stream, subject_prefix=args.subject_prefix,
            durable=args.durable, model=model, stop=stop,
        )  # fmt: skip

    with contextlib.closing(model):
        asyncio.run(run())


if __name__ == "__main__":
    main()
