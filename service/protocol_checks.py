"""isinstance against runtime-checkable Protocols, made cheap on Python 3.11.

eventsourcing checks each event it saves (`collect_events`) and each event it replays
into an aggregate (`project_aggregate`) with isinstance against its runtime-checkable
Protocols. On 3.11 every such check walks the protocol's classes to list its members
again (`typing._get_protocol_attrs`); 3.12 lists them once per class. A py-spy profile
of no-op jobs (samples holding the GIL) found 13% of the job engine's process there.
`install()` lists them once per protocol class, as 3.12 does; the check is otherwise
unchanged (tests/unit/service/test_protocol_checks.py).
"""

from __future__ import annotations

import functools
import sys
import typing
from typing import Any

_NAME = "_get_protocol_attrs"


def install() -> None:
    """Memoize typing's protocol member listing (3.11 only; idempotent)."""
    if sys.version_info >= (3, 12):
        return
    listing = getattr(typing, _NAME)
    if hasattr(listing, "cache_info"):
        return  # installed already

    @functools.cache
    def protocol_attrs(cls: type[Any]) -> frozenset[str]:
        # Frozen: every caller only iterates it; a shared set must not be changed.
        return frozenset(listing(cls))

    setattr(typing, _NAME, protocol_attrs)
