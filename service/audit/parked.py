"""`jobstream projections parked`: the events each read model could not apply, and why.

One line per event (with `--json`, one JSON object per line), error text included: an
operator's command, unlike the unauthenticated `/health/details`. A rebuild clears the
list of the read model it rebuilt (`clear_rebuilt`).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import msgspec

from service.parked import log_parked

if TYPE_CHECKING:
    import argparse

    from projections.parking import Parking
    from projections.rebuild import LiveRebuild
    from service.audit.models import Models

_json = msgspec.json.Encoder()


def _views(models: Models) -> dict[str, Parking]:
    return {name: models.view(name) for name in models.read_models.names}


def show(models: Models, args: argparse.Namespace) -> int:
    """Print the parked events of one read model (`args.name`) or of each."""
    lines = []
    for name, view in _views(models).items():
        if args.name not in {None, name}:
            continue
        for event in view.parked_events():
            if args.json:
                lines.append(_json.encode(event).decode())
            else:
                lines.append(
                    f"{name} position {event.position} {event.originator_id} "
                    f"v{event.originator_version} {event.topic} "
                    f"(parked {event.parked_at} after {event.attempts} attempts): "
                    f"{event.error}"
                )
    if not lines and not args.json:
        lines.append("no parked events")
    sys.stdout.write("".join(f"{line}\n" for line in lines))
    return 0


def clear_rebuilt(
    models: Models, name: str, rebuilt: LiveRebuild, position: int
) -> None:
    """After a rebuild of `name` up to `position`: it applied those events, forget them.

    But those it could not apply and parked itself: they stay, and are logged.
    """
    _views(models)[name].clear_parked(position, [e.position for e in rebuilt.parked])
    for event in rebuilt.parked:
        log_parked(event, by="rebuild")
