"""Clients that hammer the login, run as a process of their own (stdlib and httpx only).

`python -m tests.api.login_attack <base url> <email> <clients> <seconds>` prints
`started`, then after the seconds a JSON object of response counts by status (`-1`
counts 503s without `Retry-After: 1`).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter

import httpx


async def _hammer(
    client: httpx.AsyncClient, email: str, until: float, statuses: Counter[int]
) -> None:
    """One attacker: wrong passwords back to back, never waiting as asked."""
    while time.monotonic() < until:
        response = await client.post(
            "/admin/auth/token", json={"email": email, "password": "wrong"}
        )
        statuses[response.status_code] += 1
        if response.status_code == 503:
            statuses[-1] += response.headers.get("retry-after") != "1"


async def _attack(base_url: str, email: str, clients: int, seconds: float) -> None:
    statuses: Counter[int] = Counter()
    # One connection per attacker; one client, since making one costs milliseconds.
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base_url, timeout=30, limits=limits
    ) as client:
        sys.stdout.write("started\n")
        sys.stdout.flush()
        until = time.monotonic() + seconds
        await asyncio.gather(
            *(_hammer(client, email, until, statuses) for _ in range(clients))
        )
    sys.stdout.write(json.dumps(statuses) + "\n")


if __name__ == "__main__":
    url, email, clients, seconds = sys.argv[1:5]
    asyncio.run(_attack(url, email, int(clients), float(seconds)))
