"""Role processes run until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager


async def run_until_signalled(role: AbstractAsyncContextManager[Any]) -> None:
    """Enter the role's context, wait for SIGTERM/SIGINT, then let it wind down."""
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    async with role:
        await stopped.wait()
