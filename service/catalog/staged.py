"""A change set too large to hold in memory: staged on disk, committed at once.

An import changes tens of thousands of products and must save all of them or none.
`StagedChanges` takes the changes chunk by chunk: `flush()` settles the chunk's
claims, turns its new events into stored events, appends them to a scratch file
and forgets the aggregates beyond the most recently used. `commit()` streams the
file into one transaction (`service.bulk_store`). Memory holds one chunk, a bounded
cache, and an index of the staged ids; the catalog sees nothing until the commit.

An aggregate forgotten and needed again is folded from the store's events followed
by the staged ones. Reads go to the store in bulk: `prefetch()` takes a chunk's ids
in one query per 500.
"""

from __future__ import annotations

import struct
import tempfile
from typing import TYPE_CHECKING, TypeVar

import msgspec
from eventsourcing.application import project_aggregate
from eventsourcing.persistence import StoredEvent

from domain.catalog.base import CatalogAggregate
from domain.catalog.claims import Claim
from domain.errors import NotFoundError
from service.batching import batched
from service.bulk_store import insert_in_one_transaction, read_events
from service.catalog.changes import CatalogChanges

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from eventsourcing.domain import BaseAggregate

    from service.application import Jobstream

A = TypeVar("A", bound=CatalogAggregate)
KEEP = 2_000  # aggregates (and as many claims) kept in memory between chunks
COMMIT_BATCH = 1_000  # stored events read back per batch of the commit
_LENGTH = struct.Struct("<I")
_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(tuple[str, int, str, bytes]).decode


class StagedChanges(CatalogChanges):
    """A CatalogChanges whose events wait on disk until one `save()` commits them."""

    def __init__(self, app: Jobstream, actor: str, keep: int = KEEP) -> None:
        super().__init__(app, actor)
        self._jobstream = app
        self._keep = keep
        self._scratch = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._staged: dict[str, list[int]] = {}  # id -> offsets of its staged events
        self._absent: set[str] = set()  # ids neither stored nor staged
        self._touched: dict[str, None] = {}  # got or added since the last flush
        self.staged_events = 0
        self._topics: set[str] = set()  # of the staged events, for the runners

    # -- reads -----------------------------------------------------------------

    def get(self, cls: type[A], entity_id: str, message: str) -> A:
        held: object = self._aggregates.pop(entity_id, None)
        if held is None:
            self.prefetch([entity_id])
            held = self._aggregates.pop(entity_id, None)
        if held is None:
            raise NotFoundError(message)
        if isinstance(held, CatalogAggregate):
            self._aggregates[entity_id] = held  # most recently used: last
            self._touched[entity_id] = None
        if not isinstance(held, cls):
            raise NotFoundError(message)
        return held

    def prefetch(self, ids: Iterable[str]) -> None:
        """Bring these ids into memory with one query per 500 (unknown ids noted)."""
        wanted = {
            entity_id
            for entity_id in ids
            if entity_id not in self._aggregates
            and entity_id not in self._claims
            and entity_id not in self._absent
        }
        if not wanted:
            return
        stored = read_events(self.app, wanted)
        for entity_id in wanted:
            events = stored.get(entity_id, []) + self._read_staged(entity_id)
            if not events:
                self._absent.add(entity_id)
                continue
            aggregate: object = project_aggregate(
                None, (self.app.mapper.to_domain_event(e) for e in events)
            )
            if isinstance(aggregate, Claim):
                self._claims[entity_id] = aggregate
            elif isinstance(aggregate, CatalogAggregate):
                self._aggregates[entity_id] = aggregate
                self._keys_at_load[entity_id] = aggregate.unique_keys()

    def add(self, aggregate: A) -> A:
        self._absent.discard(aggregate.id)
        self._touched[aggregate.id] = None
        return super().add(aggregate)

    def _load_claims(self, keys: list[str]) -> None:
        self.prefetch(keys)

    def _claim_for(self, key: str, owner: str | None = None) -> Claim:
        if key not in self._claims and key not in self._absent:
            self.prefetch([key])
        if key not in self._claims:
            self._absent.discard(key)
            self._claims[key] = Claim.take(key, owner, self.actor)
        self._touched[key] = None
        return self._claims[key]

    # -- staging ---------------------------------------------------------------

    def flush(self, *also: BaseAggregate[str]) -> None:
        """Stage every pending event on disk; forget all but the recently used."""
        changed = [i for i in self._touched if i in self._aggregates]
        self._settle_claims(changed)
        end = self._scratch.seek(0, 2)
        buffer = bytearray()
        to_stored = self.app.mapper.to_stored_event
        touched = (
            self._aggregates.get(i) or self._claims.get(i) for i in self._touched
        )
        for aggregate in (*(a for a in touched if a is not None), *also):
            events = aggregate.collect_events()
            if not events:
                continue
            offsets = self._staged.setdefault(aggregate.id, [])
            for event in events:
                stored = to_stored(event)
                record = _encode(
                    (stored.originator_id, stored.originator_version, stored.topic,
                     stored.state)
                )  # fmt: skip
                self._topics.add(stored.topic)
                offsets.append(end + len(buffer))
                buffer += _LENGTH.pack(len(record))
                buffer += record
                self.staged_events += 1
        self._scratch.write(buffer)
        self._touched.clear()
        for held in (self._aggregates, self._claims):
            for entity_id in list(held)[: max(0, len(held) - self._keep)]:
                del held[entity_id]
                self._keys_at_load.pop(entity_id, None)

    def save(self, *also: BaseAggregate[str]) -> int:
        """Stage what is left, then commit everything staged in one transaction.

        Returns the last event's position (0 if nothing changed).
        """
        self.flush(*also)
        if not self.staged_events:
            return 0
        position = insert_in_one_transaction(self.app, self._batches())
        self._jobstream.notify_saved(self._topics, position)
        return position

    def close(self) -> None:
        """Drop the scratch file (whether or not it was committed)."""
        self._scratch.close()

    def _batches(self) -> Iterator[list[StoredEvent]]:
        self._scratch.seek(0)
        events = (self._read_one() for _ in range(self.staged_events))
        return batched(events, COMMIT_BATCH)

    def _read_staged(self, entity_id: str) -> list[StoredEvent]:
        events = []
        for offset in self._staged.get(entity_id, ()):
            self._scratch.seek(offset)
            events.append(self._read_one())
        return events

    def _read_one(self) -> StoredEvent:
        (length,) = _LENGTH.unpack(self._scratch.read(_LENGTH.size))
        originator_id, version, topic, state = _decode(self._scratch.read(length))
        return StoredEvent(
            originator_id=originator_id,
            originator_version=version,
            topic=topic,
            state=state,
        )
