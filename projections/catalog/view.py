"""The catalog view: its interface, and the SQL both backends share.

Three tables: products (filter columns plus the product's state and its full Medusa
document, so a page of products is one query), records (regions, collections, sales
channels, categories, shipping profiles and the store's defaults) and variants (id and
SKU lookups). All columns are TEXT or INTEGER, so one DDL serves SQLite and PostgreSQL.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
from eventsourcing.persistence import Tracking, TrackingRecorder

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from domain.catalog.base import CatalogAggregate
    from projections.catalog.query import ProductFilter

PRODUCTS, RECORDS, VARIANTS = "catalog_products", "catalog_records", "catalog_variants"
PRODUCT_COLUMNS = (
    "id", "created_at", "updated_at", "handle", "title", "description", "status",
    "collection_id", "type_id", "is_giftcard", "deleted", "search", "refs", "version",
    "state", "document",
)  # fmt: skip
RECORD_COLUMNS = ("id", "kind", "created_at", "version", "state", "document")


def ddl(products: str, records: str, variants: str) -> tuple[str, ...]:
    """The catalog tables and their indexes, under these names."""
    return (
        (
            f"CREATE TABLE IF NOT EXISTS {products} (id TEXT PRIMARY KEY, "
            "created_at TEXT NOT NULL, updated_at TEXT NOT NULL, handle TEXT, title TEXT, "
            "description TEXT, status TEXT, collection_id TEXT, type_id TEXT, "
            "is_giftcard INTEGER NOT NULL, deleted INTEGER NOT NULL, search TEXT NOT NULL, "
            "refs TEXT NOT NULL, version INTEGER NOT NULL, state TEXT NOT NULL, "
            "document TEXT NOT NULL)"
        ),
        f"CREATE INDEX IF NOT EXISTS {products}_live ON {products} (deleted, created_at, id)",
        # Export pages walk live products in id order (a keyset): without this index each
        # page sorts every product.
        f"CREATE INDEX IF NOT EXISTS {products}_live_by_id ON {products} (deleted, id)",
        f"CREATE INDEX IF NOT EXISTS {products}_handle ON {products} (handle)",
        f"CREATE INDEX IF NOT EXISTS {products}_collection ON {products} (collection_id)",
        (
            f"CREATE TABLE IF NOT EXISTS {records} (id TEXT PRIMARY KEY, "
            "kind TEXT NOT NULL, created_at TEXT NOT NULL, version INTEGER NOT NULL, "
            "state TEXT NOT NULL, document TEXT NOT NULL)"
        ),
        f"CREATE INDEX IF NOT EXISTS {records}_kind ON {records} (kind, created_at, id)",
        (
            f"CREATE TABLE IF NOT EXISTS {variants} (id TEXT PRIMARY KEY, "
            "product_id TEXT NOT NULL, sku TEXT)"
        ),
        f"CREATE INDEX IF NOT EXISTS {variants}_sku ON {variants} (sku)",
        f"CREATE INDEX IF NOT EXISTS {variants}_product ON {variants} (product_id)",
    )


DDL = ddl(PRODUCTS, RECORDS, VARIANTS)
encode = msgspec.json.Encoder().encode


@dataclass(frozen=True)
class Record:
    """A catalog entity that is not a product: its state and its Medusa document."""

    id: str
    kind: str
    state: dict[str, Any]
    document: str


@dataclass(frozen=True)
class ProductPage:
    """One export page: full product documents in id order.

    `last_id` is the `after` of the next page; None when this page was the last.
    """

    documents: list[str]
    last_id: str | None


@dataclass(frozen=True)
class RegionSummary:
    id: str
    name: str
    currency_code: str


class CatalogView(TrackingRecorder, ABC):
    """Each write folds a batch of catalog events and records tracking atomically."""

    @abstractmethod
    def apply_events(
        self, events: Sequence[CatalogAggregate.Event], tracking: Tracking
    ) -> None: ...

    @abstractmethod
    def get_product(self, product_id: str) -> str | None:
        """A live product's document (JSON text), or None."""

    @abstractmethod
    def list_products(
        self,
        query: ProductFilter,
        *,
        order_by: str = "created_at",
        descending: bool = True,
        limit: int | None = 50,
        offset: int = 0,
    ) -> tuple[list[str], int]:
        """One page of documents, and the count of every match (`limit=None`: all)."""

    @abstractmethod
    def page_products(
        self,
        query: ProductFilter,
        *,
        after: str | None = None,
        limit: int = 500,
        descending: bool = False,
    ) -> ProductPage:
        """Export paging: up to `limit` documents with ids past `after`.

        In id order (ids are time-ordered ULIDs; newest first if `descending`), as one
        query: memory stays a page.
        """

    @abstractmethod
    def count_products(self, query: ProductFilter) -> int: ...

    @abstractmethod
    def get_record(self, kind: str, record_id: str) -> Record | None: ...

    @abstractmethod
    def list_records(self, kind: str) -> list[Record]:
        """Every record of a kind, newest first."""

    @abstractmethod
    def find_variant(
        self, *, variant_id: str | None = None, sku: str | None = None
    ) -> tuple[str, str] | None:
        """(product id, variant id) of a live variant by id or SKU, or None."""

    @abstractmethod
    def related_documents(self, state: dict[str, Any]) -> dict[str, Any]:
        """The documents of the records a product's `state` embeds, by id."""

    def list_regions(self) -> list[RegionSummary]:
        """Every region (id, name, currency), oldest first: price columns for an export."""
        return [
            RegionSummary(r.id, r.state["name"], r.state["currency_code"])
            for r in reversed(self.list_records("region"))
        ]

    def iter_products(
        self, query: ProductFilter, page_size: int = 500
    ) -> Iterable[list[str]]:
        """Every matching product's document, a page at a time (see page_products)."""
        after: str | None = None
        while True:
            page = self.page_products(query, after=after, limit=page_size)
            if page.documents:
                yield page.documents
            if page.last_id is None:
                return
            after = page.last_id
