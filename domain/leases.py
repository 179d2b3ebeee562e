"""Leases: which worker holds a job's current step, and until when.

A worker takes a lease when it starts a step (pre-processing or processing) and renews
it while it works. A lease that expires means its holder stopped: another worker may
take the job over, and a job whose lease stays expired is failed by the reaper, so no
job waits forever on a worker that is gone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum


class LeaseStep(StrEnum):
    PRE_PROCESSING = "pre_processing"
    PROCESSING = "processing"


def is_live(holder: str | None, expires_at: datetime | None, now: datetime) -> bool:
    """Held by a worker that has renewed it in time."""
    return holder is not None and expires_at is not None and expires_at > now


def is_abandoned(expires_at: datetime | None, now: datetime, grace: float) -> bool:
    """Expired `grace` seconds ago or more, with no worker taking it up since."""
    return expires_at is not None and expires_at + timedelta(seconds=grace) <= now


def abandoned_message(
    holder: str | None, step: str, expires_at: datetime, grace: float
) -> str:
    who = f"by {holder}" if holder is not None else "for a retry"
    return (
        f"Jobstream: no worker took up this batch job's {step} within {grace:g} s "
        f"of its lease expiring at {expires_at.isoformat()} (last held {who}); "
        "it was failed so it does not wait forever"
    )


def gave_up_message(step: str, attempts: int, holder: str | None) -> str:
    return (
        f"Jobstream: gave up on this batch job's {step} after {attempts} attempts; "
        f"the last worker on it ({holder or 'unknown'}) stopped without finishing"
    )
