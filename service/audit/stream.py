"""`events tail` and `relay replay`: the JetStream side of the audit commands."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from typing import TYPE_CHECKING

import nats
from nats.js.api import DeliverPolicy

from projections.batch_jobs.document import iso
from service.audit import tables
from service.messaging import envelope
from service.messaging.relay import TOPICS
from service.messaging.streams import ensure_stream
from service.runtime import build_app
from service.settings import nats_servers

if TYPE_CHECKING:
    from nats.aio.client import Client

    from service.settings import Settings

PAGE = 1000


async def _connect(settings: Settings, name: str) -> Client:
    if settings.nats_url is None:
        raise SystemExit("Set JOBSTREAM_NATS_URL: this command talks to NATS JetStream")
    return await nats.connect(nats_servers(settings.nats_url), name=name)


async def tail(
    settings: Settings,
    subject: str | None,
    count: int | None,
    *,
    from_start: bool,
    as_json: bool,
) -> int:
    """Print the stream's messages as they arrive (an ordered, ephemeral consumer)."""
    nc = await _connect(settings, "jobstream-tail")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        sub = await nc.jetstream().subscribe(
            subject or f"{settings.nats_subject_prefix}.>",
            stream=settings.nats_stream,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.ALL if from_start else DeliverPolicy.NEW,
        )
        if not as_json:
            _write("stream_seq  occurred_at               event  job  actor\n")
        seen = 0
        while not stop.is_set() and (count is None or seen < count):
            with contextlib.suppress(TimeoutError, nats.errors.TimeoutError):
                msg = await sub.next_msg(timeout=0.5)
                seen += 1
                _write(_line(msg.metadata.sequence.stream, msg.data, as_json=as_json))
    finally:
        await nc.drain()
    return 0


def _line(sequence: int, data: bytes, *, as_json: bool) -> str:
    if as_json:
        return f'{{"stream_seq":{sequence},"envelope":{data.decode()}}}\n'
    message = envelope.decode(data)
    return (
        f"{sequence:<10}  {iso(message.occurred_at)}  {message.event}  "
        f"{message.job_id}  {message.actor}\n"
    )


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


async def replay(
    settings: Settings, start: int, prefix: str, stream: str | None, *, as_json: bool
) -> int:
    """Republish every batch-job event from position `start` on under `prefix`.

    Into a stream of its own (`stream`, created if missing), so a new subscriber
    reads the whole history there without touching the live stream. Each message
    keeps its envelope; its Nats-Msg-Id is `<prefix>:<event id>`, so running the
    replay again within the duplicate window publishes nothing twice.
    """
    name = stream or "REPLAY_" + prefix.upper().replace(".", "_").replace("-", "_")
    app = build_app(settings)
    nc = await _connect(settings, "jobstream-replay")
    published = duplicates = 0
    position = max(0, start - 1)
    try:
        js = nc.jetstream()
        await ensure_stream(js, name, prefix, settings.nats_replicas)
        while True:
            page = await asyncio.to_thread(
                app.recorder.select_notifications,
                start=position, limit=PAGE, topics=TOPICS, inclusive_of_start=False,
            )  # fmt: skip
            if not page:
                break
            acks = []
            for notification in page:
                event = app.mapper.to_domain_event(notification)
                message = envelope.envelope_of(notification.id, event)  # type: ignore[arg-type]
                acks.append(
                    await js.publish_async(
                        envelope.subject_for(prefix, message.event),
                        envelope.encode(message),
                        headers={"Nats-Msg-Id": f"{prefix}:{message.event_id}"},
                    )
                )
            answers = await asyncio.gather(*acks)
            published += len(answers)
            duplicates += sum(1 for answer in answers if answer.duplicate)
            position = page[-1].id
    finally:
        await nc.drain()
        app.close()
    report = {"stream": name, "subject_prefix": prefix, "published": published,
              "duplicates": duplicates, "last_position": position}  # fmt: skip
    if as_json:
        import json  # noqa: PLC0415

        _write(json.dumps(report) + "\n")
    else:
        _write(tables.table(list(report), [list(report.values())]))
    return 0
