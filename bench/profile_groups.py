"""Where a profile's CPU went, by part of Jobstream: `api_lifecycle.py --profile`'s files.

    .venv/bin/python bench/profile_groups.py /tmp/prof/embedded.txt [more.txt ...]

Each file holds py-spy's collapsed stacks (`--format raw`), one stack a line, root
first, then its sample count. A stack counts for the first part, in PARTS' order, that
any of its frames belongs to: a job's save counts as the engine's, a projection
round's SQL as the read models', the relay's publish as the relay's even on the loop
uvicorn runs. Shares are of the samples that held the GIL.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

# (part, pattern of a frame): the first part any frame of a stack matches takes it.
# Ordered from the narrowest roles to the generic layers; uvicorn's server loop is
# not HTTP's (the relay and the worker's fetches run on it in `serve`), its
# protocols are.
PARTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("relay", r"service/messaging/(relay|published_jobs)\.py"),
        ("worker fetch, ack", r"service/engine/jetstream\.py|nats/js/"),
        ("job engine", r"service/engine/|service/strategies/|service/processing/"),
        ("group commit", r"service/group_commit\.py"),
        ("HTTP", r"litestar/|uvicorn/protocols/|httptools|service/http/"),
        ("read models", r"projections/|service/read_models/|service/positions"),
        ("NATS client", r"nats/aio/|nats/protocol"),
        ("event store", r"eventsourcing/|service/event_store\.py|psycopg/|sqlite3"),
        ("event loop", r"asyncio/|uvloop|uvicorn/"),
    )
)
OTHER = "other"


def part_of(frames: list[str]) -> str:
    for name, pattern in PARTS:
        if any(pattern.search(frame) for frame in frames):
            return name
    return OTHER


def shares(lines: list[str]) -> Counter[str]:
    samples: Counter[str] = Counter()
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples[part_of(stack.split(";"))] += int(count)
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profiles", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for path in args.profiles:
        try:
            samples = shares(path.read_text().splitlines())
        except OSError as error:
            print(f"{path}: {error.strerror}", file=sys.stderr)
            return 2
        total = sum(samples.values())
        print(f"{path} ({total} samples holding the GIL)")
        for name, count in samples.most_common():
            print(f"  {name:<20} {100 * count / max(total, 1):5.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
