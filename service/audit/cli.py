"""The audit and replay commands of `jobstream`: history, state, verify, rebuild, events."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from projections.batch_jobs.document import iso
from service import positions
from service.audit import history, parked, tables, verify
from service.audit.models import PROJECTIONS, Models, require_store
from service.commandline.arguments import (
    at_least_one,
    command,
    moment,
    position_or_moment,
)
from service.commandline.errors import CommandError

if TYPE_CHECKING:
    import argparse

    from projections.rebuild import Progress
    from service.settings import Settings

_json = msgspec.json.Encoder()


def register(
    commands: Any,
    projections: argparse.ArgumentParser,
    relay: argparse.ArgumentParser,
) -> None:
    """Add the audit commands, and the sub-actions of `projections` and `relay`."""
    shown = command(commands, "history", "print the event timeline of a job or product")
    shown.add_argument("aggregate_id", help="a batch job's or catalog entity's id")
    state = command(commands, "state", "print a job or product as it was at a point")
    state.add_argument("aggregate_id", help="a batch job's or catalog entity's id")
    point = state.add_mutually_exclusive_group(required=True)
    point.add_argument("--version", type=at_least_one, help="its state after event N")
    point.add_argument("--at", type=moment, help="ISO 8601 time (UTC if no offset)")
    check = command(commands, "verify", "compare the read models with the events")
    events = command(commands, "events", "the event log and the event stream")
    actions = events.add_subparsers(dest="events_action", required=True)
    tail = command(actions, "tail", "follow the JetStream event stream")
    tail.add_argument("--subject", help="default: every subject of the stream")
    tail.add_argument(
        "--count", type=at_least_one, help="stop after this many messages"
    )
    tail.add_argument("--all", action="store_true", help="from the stream's start")
    export = command(actions, "export", "print the event log as JSON lines")
    export.add_argument(
        "--since",
        type=position_or_moment,
        default=0,
        help="a position (events after it) or an ISO 8601 time (events from it)",
    )
    sub = projections.add_subparsers(dest="projections_action", required=False)
    status = command(sub, "status", "print positions, the store's head and lags")
    rebuild = command(sub, "rebuild", "rebuild read models live")
    rebuild.add_argument("name", nargs="?", choices=PROJECTIONS)
    parked_events = command(
        sub, "parked", "print the events a read model could not apply, with errors"
    )
    parked_events.add_argument("name", nargs="?", choices=PROJECTIONS)
    replays = relay.add_subparsers(dest="relay_action", required=False)
    replay = command(
        replays, "replay", "republish past events to a stream of their own"
    )
    replay.add_argument("--from", dest="start", type=at_least_one, default=1)
    replay.add_argument("--subject-prefix", required=True)
    replay.add_argument("--stream", help="default: REPLAY_<prefix>")
    for parser in (shown, state, check, status, rebuild, parked_events, tail, replay):
        parser.add_argument("--json", action="store_true", help="JSON for scripts")


def run(settings: Settings, args: argparse.Namespace) -> int | None:
    """Run an audit command; None if `args` names none of them."""
    action = getattr(args, f"{args.command}_action", None)
    key = args.command if action is None else f"{args.command} {action}"
    handler = _HANDLERS.get(key)
    if handler is None:
        return None
    if key == "events tail":
        return int(handler(settings, args))  # NATS alone
    require_store(settings)  # every other one reads the event store
    if key == "relay replay":
        return int(handler(settings, args))
    models = Models.open(settings)
    try:
        if key == "projections status":
            return int(handler(models, args, settings))
        return int(handler(models, args))
    finally:
        models.close()


def _out(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _history(models: Models, args: argparse.Namespace) -> int:
    try:
        found = history.history(models.app, args.aggregate_id)
    except history.UnknownAggregateError:
        raise CommandError(f"no events for {args.aggregate_id}") from None
    if args.json:
        _out(_json.encode(found).decode() + "\n")
        return 0
    rows = [
        (e.version, iso(e.occurred_at), e.name, e.actor,
         _json.encode(e.payload).decode())
        for e in found
    ]  # fmt: skip
    _out(tables.table(["version", "occurred_at", "event", "actor", "payload"], rows))
    return 0


def _state(models: Models, args: argparse.Namespace) -> int:
    try:
        found = history.state_at(
            models.app, args.aggregate_id, version=args.version, at=args.at,
            catalog=models.catalog,
        )  # fmt: skip
    except history.PastLastVersionError as error:
        raise CommandError(
            f"--version {error.version}: {error.aggregate_id} has versions 1 to "
            f"{error.last}"
        ) from None
    except history.UnknownAggregateError:
        if args.at is None:
            raise CommandError(f"no events for {args.aggregate_id}") from None
        raise CommandError(
            f"--at {iso(args.at)}: no batch job or catalog entity {args.aggregate_id} "
            "existed yet"
        ) from None
    if args.json:
        _out(_json.encode(found).decode() + "\n")
        return 0
    rows = [
        (k, v if isinstance(v, str) else _json.encode(v).decode())
        for k, v in found.items()
    ]
    _out(tables.table(["field", "value"], rows))
    return 0


def _verify(models: Models, args: argparse.Namespace) -> int:
    reports = verify.verify(models)
    differences = [d for r in reports for d in r.differences]
    if args.json:
        _out(_json.encode(reports).decode() + "\n")
    else:
        summary = [
            (r.model, r.aggregates, r.events, f"{r.events / max(r.seconds, 1e-9):,.0f}",
             len(r.differences))
            for r in reports
        ]  # fmt: skip
        _out(
            tables.table(
                ["model", "aggregates", "events", "events/s", "differences"], summary
            )
        )
        if differences:
            rows = [(d.model, d.id, d.problem) for d in differences]
            _out("\n" + tables.table(["model", "id", "difference"], rows))
    return 1 if differences else 0


def _status(models: Models, args: argparse.Namespace, settings: Settings) -> int:
    head = models.app.recorder.max_notification_id() or 0
    positions_by_name = {
        name: view.position(models.app.name)
        for name, view in (("batchjobs", models.jobs), ("catalog", models.catalog))
    }
    for extra, tracking in (
        ("processor", models.parts.processor_position),
        (f"relay_{settings.nats_stream.lower()}", models.parts.relay_position),
    ):
        positions_by_name[extra] = positions.recorded(tracking, models.app.name)
    report = {
        "event_store_head": head,
        "projections": {
            name: {"position": at, "lag": positions.lag(head, at)}
            for name, at in positions_by_name.items()
        },
    }
    if args.json:
        _out(_json.encode(report).decode() + "\n")
        return 0
    rows = [(n, at, positions.lag(head, at)) for n, at in positions_by_name.items()]
    _out(
        f"event store head: {head}\n"
        + tables.table(["reader", "position", "lag"], rows)
    )
    return 0


def _rebuild(models: Models, args: argparse.Namespace) -> int:
    def show(progress: Progress) -> None:
        if not args.json:
            sys.stderr.write(tables.progress_line(progress))
            sys.stderr.flush()

    results = []
    for name in [args.name] if args.name else PROJECTIONS:
        rebuild = models.rebuild(name, on_progress=show)
        final = rebuild.run()
        # Every event was applied again: none is parked any more but what it parked.
        parked.clear_rebuilt(models, name, rebuild, final.position)
        if not args.json:
            sys.stderr.write("\n")
        results.append(
            {"name": name, "position": final.position, "events": final.events,
             "seconds": round(final.seconds, 3), "events_per_second": round(final.rate)}
        )  # fmt: skip
    if args.json:
        _out(_json.encode(results).decode() + "\n")
    else:
        _out(tables.table(
            ["model", "position", "events", "seconds", "events/s"],
            [tuple(r.values())[:1] + tuple(r.values())[1:] for r in results],
        ))  # fmt: skip
    return 0


def _export(models: Models, args: argparse.Namespace) -> int:
    start, since = (
        (0, args.since) if isinstance(args.since, datetime) else (args.since, None)
    )
    for page in models.events(start=start):
        lines = []
        for position, event in page:
            if since is not None and event.timestamp < since:
                continue
            described = history.describe(event)
            record = {"position": position, "aggregate_id": event.originator_id,
                      **msgspec.structs.asdict(described)}  # fmt: skip
            lines.append(_json.encode(record).decode())
        if lines:
            _out("\n".join(lines) + "\n")
    return 0


def _tail(settings: Settings, args: argparse.Namespace) -> int:
    from service.audit import stream  # noqa: PLC0415 - NATS only for these commands

    return asyncio.run(
        stream.tail(
            settings, args.subject, args.count, from_start=args.all, as_json=args.json
        )
    )


def _replay(settings: Settings, args: argparse.Namespace) -> int:
    from service.audit import stream  # noqa: PLC0415 - NATS only for these commands

    return asyncio.run(
        stream.replay(
            settings, args.start, args.subject_prefix, args.stream, as_json=args.json
        )
    )


_HANDLERS: dict[str, Any] = {
    "history": _history,
    "state": _state,
    "verify": _verify,
    "projections status": _status,
    "projections rebuild": _rebuild,
    "projections parked": parked.show,
    "events export": _export,
    "events tail": _tail,
    "relay replay": _replay,
}
