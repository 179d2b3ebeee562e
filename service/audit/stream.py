"""`events tail` and `relay replay`: the JetStream side of the audit commands."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import msgspec
import nats
from nats.js.api import DeliverPolicy

from projections.batch_jobs.document import iso
from service.audit import tables
from service.bootstrap.process import Bootstrap
from service.commandline.errors import USAGE, CommandError
from service.messaging import envelope
from service.messaging.relay import TOPICS
from service.messaging.streams import StreamLimits, ensure_stream
from service.nats_client import MAX_OUTSTANDING_PINGS, PING_INTERVAL
from service.settings import nats_servers

if TYPE_CHECKING:
    from nats.aio.client import Client

    from service.settings import Settings

PAGE = 1000
# A command, not a service: with no server answering, it says so after about two
# seconds (three tries, one second apart), and after as many retries of a lost one.
CONNECT_ATTEMPTS = 3
RETRY_WAIT_SECONDS = 1
CONNECT_TIMEOUT_SECONDS = 2


async def _connect(settings: Settings, name: str) -> Client:
    """A connection, or CommandError naming JOBSTREAM_NATS_URL after bounded tries."""
    if settings.nats_url is None:
        raise CommandError(
            "JOBSTREAM_NATS_URL is not set: this command talks to NATS JetStream",
            exit_code=USAGE,
        )
    failures: list[Exception] = []

    async def remember(error: Exception) -> None:  # instead of a traceback per try
        failures.append(error)

    try:
        return await nats.connect(
            nats_servers(settings.nats_url),
            name=name,
            error_cb=remember,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            reconnect_time_wait=RETRY_WAIT_SECONDS,
            max_reconnect_attempts=CONNECT_ATTEMPTS - 1,
            # A tail on a node that went silent notices it as the services do.
            ping_interval=PING_INTERVAL,
            max_outstanding_pings=MAX_OUTSTANDING_PINGS,
        )
    except (nats.errors.Error, OSError, TimeoutError) as error:
        reason = failures[-1] if failures else error
        raise CommandError(
            f"JOBSTREAM_NATS_URL: no NATS server answers at {_servers(settings)} "
            f"({_describe(reason)}; tried {CONNECT_ATTEMPTS} times)"
        ) from None


def _servers(settings: Settings) -> str:
    """host:port of each server, without any user or password in the URL."""
    urls = nats_servers(settings.nats_url or "")
    return ", ".join(urlsplit(url).netloc.rpartition("@")[2] for url in urls)


def _describe(error: Exception) -> str:
    if isinstance(error, OSError) and error.errno:
        return os.strerror(error.errno).lower()  # asyncio's text repeats the address
    return str(error) or type(error).__name__


def _lost(settings: Settings) -> CommandError:
    return CommandError(
        f"JOBSTREAM_NATS_URL: lost the connection to NATS at {_servers(settings)} "
        f"(tried {CONNECT_ATTEMPTS} times to get it back)"
    )


async def _close(nc: Client) -> None:
    if not nc.is_closed:
        await nc.drain()


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
        try:
            sub = await nc.jetstream().subscribe(
                subject or f"{settings.nats_subject_prefix}.>",
                stream=settings.nats_stream,
                ordered_consumer=True,
                deliver_policy=DeliverPolicy.ALL if from_start else DeliverPolicy.NEW,
            )
        except nats.js.errors.NotFoundError:
            raise CommandError(
                f"JOBSTREAM_NATS_STREAM: no stream {settings.nats_stream!r} on the NATS "
                "server (`jobstream relay` creates it)"
            ) from None
        if not as_json:
            _write("stream_seq  occurred_at               event  job  actor\n")
        seen = 0
        while not stop.is_set() and (count is None or seen < count):
            try:
                msg = await sub.next_msg(timeout=0.5)
            except (TimeoutError, nats.errors.TimeoutError):
                if nc.is_closed:  # reconnecting gave up
                    raise _lost(settings) from None
                continue
            except nats.errors.ConnectionClosedError:
                raise _lost(settings) from None
            seen += 1
            _write(_line(msg.metadata.sequence.stream, msg.data, as_json=as_json))
    finally:
        await _close(nc)
    return 0


def _line(sequence: int, data: bytes, *, as_json: bool) -> str:
    if as_json:
        return f'{{"stream_seq":{sequence},"envelope":{data.decode()}}}\n'
    message: envelope.EventEnvelope | envelope.CatalogEventEnvelope
    try:
        message = envelope.decode(data)
        entity_id = message.job_id
    except msgspec.ValidationError:  # a catalog event: its entity in the job's column
        message = envelope.decode_catalog(data)
        entity_id = message.entity_id
    return (
        f"{sequence:<10}  {iso(message.occurred_at)}  {message.event}  "
        f"{entity_id}  {message.actor}\n"
    )


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


async def replay(
    settings: Settings, start: int, prefix: str, stream: str | None, *, as_json: bool
) -> int:
    """Republish every batch-job and product event from position `start` on under `prefix`.

    Into a stream of its own (`stream`, created if missing), so a new subscriber
    reads the whole history there without touching the live stream. Each message
    keeps its envelope; its Nats-Msg-Id is `<prefix>:<event id>`, so running the
    replay again within the duplicate window publishes nothing twice.
    """
    name = stream or "REPLAY_" + prefix.upper().replace(".", "_").replace("-", "_")
    parts = Bootstrap(settings, project=False)
    app = parts.app
    nc = await _connect(settings, "jobstream-replay")
    published = duplicates = 0
    position = max(0, start - 1)
    try:
        js = nc.jetstream()
        await ensure_stream(
            js, name, prefix, settings.nats_replicas, StreamLimits.of(settings)
        )
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
                message = envelope.outgoing(prefix, notification.id, event)
                acks.append(
                    await js.publish_async(
                        message.subject,
                        message.data,
                        headers={"Nats-Msg-Id": f"{prefix}:{message.event_id}"},
                    )
                )
            answers = await asyncio.gather(*acks)
            published += len(answers)
            duplicates += sum(1 for answer in answers if answer.duplicate)
            position = page[-1].id
    finally:
        await _close(nc)
        parts.close()
    report = {"stream": name, "subject_prefix": prefix, "published": published,
              "duplicates": duplicates, "last_position": position}  # fmt: skip
    if as_json:
        import json  # noqa: PLC0415

        _write(json.dumps(report) + "\n")
    else:
        _write(tables.table(list(report), [list(report.values())]))
    return 0
