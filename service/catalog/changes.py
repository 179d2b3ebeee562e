"""A change set: catalog aggregates changed together and saved in one transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from eventsourcing.application import AggregateNotFoundError

from domain.catalog import claims
from domain.catalog.base import CatalogAggregate
from domain.catalog.claims import Claim
from domain.errors import NotFoundError

if TYPE_CHECKING:
    from eventsourcing.application import Application
    from eventsourcing.domain import BaseAggregate

A = TypeVar("A", bound=CatalogAggregate)


class CatalogChanges:
    """Aggregates got, created and changed together, saved in one transaction.

    `save()` records all their events, and the uniqueness claims they need, at once.

    An aggregate is read once per change set, so several changes to one product
    accumulate on the same copy. A unique value (a handle, a SKU, a country) taken by
    another entity raises the Medusa error for it before anything is saved.
    """

    def __init__(self, app: Application[str], actor: str) -> None:
        self.app = app
        self.actor = actor
        self._aggregates: dict[str, CatalogAggregate] = {}
        self._keys_at_load: dict[str, set[str]] = {}
        self._claims: dict[str, Claim] = {}

    def get(self, cls: type[A], entity_id: str, message: str) -> A:
        """The aggregate of this class, or NotFoundError(message)."""
        held: object = self._aggregates.get(entity_id)
        if held is None:
            try:
                held = self.app.repository.get(entity_id)
            except AggregateNotFoundError:
                raise NotFoundError(message) from None
            if isinstance(held, CatalogAggregate):
                self._aggregates[entity_id] = held
                self._keys_at_load[entity_id] = held.unique_keys()
        if not isinstance(held, cls):
            raise NotFoundError(message)
        return held

    def exists(self, cls: type[CatalogAggregate], entity_id: str) -> bool:
        try:
            self.get(cls, entity_id, "")
        except NotFoundError:
            return False
        return True

    def add(self, aggregate: A) -> A:
        self._aggregates[aggregate.id] = aggregate
        self._keys_at_load.setdefault(aggregate.id, set())
        return aggregate

    def save(self, *also: BaseAggregate[str]) -> int:
        """Claim unique values, then save everything (and `also`) at once.

        Returns the last event's position (0 if nothing changed).
        """
        self._settle_claims(list(self._aggregates))
        recordings = self.app.save(
            *self._aggregates.values(), *self._claims.values(), *also
        )
        return recordings[-1].notification.id if recordings else 0

    def _settle_claims(self, entity_ids: list[str]) -> None:
        """Release the unique values given up, then claim the new ones.

        Releases first, so one change set can move a value (a SKU) from one entity
        to another.
        """
        taken: list[tuple[str, str]] = []
        released: list[str] = []
        for entity_id in entity_ids:
            aggregate = self._aggregates[entity_id]
            before, after = self._keys_at_load[entity_id], aggregate.unique_keys()
            taken += [(key, entity_id) for key in sorted(after - before)]
            released += sorted(before - after)
            self._keys_at_load[entity_id] = after
        self._load_claims([key for key, _ in taken] + released)
        for key in released:
            self._claim_for(key).hand_to(None, self.actor)
        for key, owner in taken:
            self._claim(key, owner)

    def _load_claims(self, keys: list[str]) -> None:
        """Hook: read the claims of `keys` before they are settled one by one."""

    def _claim(self, key: str, owner: str) -> None:
        claim = self._claim_for(key, owner)
        if not claim.is_free_for(owner):
            raise claims.duplicate_error(key, claim.owner)
        claim.hand_to(owner, self.actor)

    def _claim_for(self, key: str, owner: str | None = None) -> Claim:
        claim = self._claims.get(key)
        if claim is None:
            try:
                claim = self.app.repository.get(key)
            except AggregateNotFoundError:
                claim = Claim.take(key, owner, self.actor)
            self._claims[key] = claim
        return claim
