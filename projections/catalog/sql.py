"""The catalog view's SQL, shared by SQLite and PostgreSQL (they differ in placeholders)."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from projections import swap
from projections.catalog import documents
from projections.catalog.query import ORDERABLE, ProductFilter, where_clause
from projections.catalog.state import Entity, fold
from projections.catalog.view import (
    PRODUCT_COLUMNS,
    PRODUCTS,
    RECORD_COLUMNS,
    RECORDS,
    VARIANTS,
    CatalogView,
    ProductPage,
    Record,
    ddl,
    encode,
)
from projections.nul import without_nul
from projections.parking import Parking

if TYPE_CHECKING:
    from collections.abc import Sequence

    from eventsourcing.persistence import Tracking

    from domain.catalog.base import CatalogAggregate


def _upsert(table: str, columns: Sequence[str], mark: str) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "id")
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - constant names
        f"VALUES ({', '.join([mark] * len(columns))}) "
        f"ON CONFLICT (id) DO UPDATE SET {updates}"
    )


def _search_text(state: dict[str, Any], collection: dict[str, Any] | None) -> str:
    """What `q` searches: title, description, variant titles and SKUs, collection title."""
    parts = [state["title"] or "", state.get("description") or ""]
    for variant in state["variants"]:
        parts += [variant["title"] or "", variant.get("sku") or ""]
    parts.append((collection or {}).get("title") or "")
    return "\n".join(parts).lower()


def _refs(state: dict[str, Any]) -> str:
    """Space-delimited ids for the tag, sales channel and category filters."""
    ids = [t["id"] for t in state["tags"]]
    ids += [*state["sales_channel_ids"], *state["category_ids"]]
    return f" {' '.join(ids)} "


class SqlCatalogView(CatalogView, swap.Rebuildable, Parking, ABC):
    tracking_table: str
    products, records, variants = PRODUCTS, RECORDS, VARIANTS
    unlimited: str = ""  # what an OFFSET needs without a LIMIT (SQLite: LIMIT -1)

    @abstractmethod
    def _transaction(self, *, commit: bool) -> Any: ...

    # -- writes ------------------------------------------------------------------

    def apply_events(
        self,
        events: Sequence[CatalogAggregate.Event],
        tracking: Tracking,
        curs: Any = None,
    ) -> None:
        if curs is None:
            with self._transaction(commit=True) as own:
                self._apply(own, events, tracking)
        else:
            self._apply(curs, events, tracking)

    def _apply(
        self, curs: Any, events: Sequence[CatalogAggregate.Event], tracking: Tracking
    ) -> None:
        entity_ids = sorted({event.originator_id for event in events})
        entities = self._select_entities(curs, entity_ids)
        changed = [entities[i] for i in sorted(fold(entities, events))]
        for entity in changed:  # U+0000 is stored as U+FFFD on both backends
            entity.state = without_nul(entity.state)
        records = [e for e in changed if e.kind != "product"]
        products = [e for e in changed if e.kind == "product"]
        if records:
            curs.executemany(
                _upsert(self.records, RECORD_COLUMNS, self.placeholder),
                [self._record_row(e) for e in records],
            )
        if products:
            self._write_products(curs, products)
        self.track(curs, tracking)

    # -- live rebuilds (projections.swap) and verification ------------------------

    def table_names(self) -> list[str]:
        return [self.products, self.records, self.variants, self.tracking_table]

    def use_tables(self, names: Sequence[str]) -> None:
        self.products, self.records, self.variants, self.tracking_table = names

    def _table_statements(self) -> list[str]:
        create = ddl(self.products, self.records, self.variants)
        tracking = swap.tracking_ddl(self.tracking_table, postgres=self.postgres)
        return [*create, tracking]

    def entities_by_id(self) -> dict[str, Entity]:
        """Every entity's kind, version and state (for `jobstream verify`)."""
        with self._transaction(commit=False) as curs:
            return self._select_entities(curs, None)

    def _write_products(self, curs: Any, products: list[Entity]) -> None:
        wanted = {ref for e in products for ref in _references(e.state)}
        related = self._related_documents(curs, sorted(wanted))
        curs.executemany(
            _upsert(self.products, PRODUCT_COLUMNS, self.placeholder),
            [self._product_row(e, related) for e in products],
        )
        marks = ", ".join([self.placeholder] * len(products))
        curs.execute(
            f"DELETE FROM {self.variants} WHERE product_id IN ({marks})",  # noqa: S608
            [e.id for e in products],
        )
        rows = [
            (v["id"], e.id, v.get("sku"))
            for e in products if e.state.get("deleted_at") is None
            for v in e.state["variants"]
        ]  # fmt: skip
        if rows:
            curs.executemany(
                f"INSERT INTO {self.variants} (id, product_id, sku) "  # noqa: S608
                f"VALUES ({self.placeholder}, {self.placeholder}, {self.placeholder})",
                rows,
            )

    def _record_row(self, entity: Entity) -> tuple[object, ...]:
        document = documents.record(entity.kind, entity.state)
        return (
            entity.id, entity.kind, entity.state["created_at"], entity.version,
            json.dumps(entity.state), encode(document).decode(),
        )  # fmt: skip

    def _product_row(
        self, entity: Entity, related: dict[str, documents.Document]
    ) -> tuple[object, ...]:
        state = entity.state
        collection = related.get(state.get("collection_id") or "")
        document = documents.product(state, related)
        return (
            entity.id, state["created_at"], state["updated_at"], state["handle"],
            state["title"], state.get("description"), state["status"],
            state.get("collection_id"), state.get("type_id"), int(state["is_giftcard"]),
            int(state.get("deleted_at") is not None), _search_text(state, collection),
            _refs(state), entity.version, json.dumps(state), encode(document).decode(),
        )  # fmt: skip

    def related_documents(self, state: dict[str, Any]) -> dict[str, Any]:
        with self._transaction(commit=False) as curs:
            return self._related_documents(curs, sorted(_references(state)))

    def _related_documents(
        self, curs: Any, ids: Sequence[str]
    ) -> dict[str, documents.Document]:
        """Documents of the records products embed.

        This batch's records are included: they were written above, in this transaction.
        """
        if not ids:
            return {}
        marks = ", ".join([self.placeholder] * len(ids))
        curs.execute(
            f"SELECT id, document FROM {self.records} WHERE id IN ({marks})",  # noqa: S608
            list(ids),
        )
        return {row["id"]: json.loads(row["document"]) for row in curs.fetchall()}

    def _select_entities(
        self, curs: Any, ids: Sequence[str] | None
    ) -> dict[str, Entity]:
        """The entities with these ids; every entity if `ids` is None."""
        if ids is not None and not ids:
            return {}
        marks = ", ".join([self.placeholder] * len(ids or ()))
        where = "" if ids is None else f" WHERE id IN ({marks})"
        found: dict[str, Entity] = {}
        for table, kind in ((self.products, "'product'"), (self.records, "kind")):
            curs.execute(
                f"SELECT id, {kind} AS kind, version, state FROM {table}{where}",  # noqa: S608
                list(ids or ()),
            )
            for row in curs.fetchall():
                found[row["id"]] = Entity(
                    row["id"], row["kind"], row["version"], json.loads(row["state"])
                )
        return found

    # -- reads -------------------------------------------------------------------

    def get_product(self, product_id: str) -> str | None:
        sql = f"SELECT document FROM {self.products} WHERE id = {self.placeholder} AND deleted = 0"  # noqa: S608
        with self._transaction(commit=False) as curs:
            curs.execute(sql, [product_id])
            row = curs.fetchone()
        return None if row is None else str(row["document"])

    def list_products(
        self,
        query: ProductFilter,
        *,
        order_by: str = "created_at",
        descending: bool = True,
        limit: int | None = 50,
        offset: int = 0,
    ) -> tuple[list[str], int]:
        if order_by not in ORDERABLE:
            raise ValueError(f"not an orderable column: {order_by}")
        where, params = where_clause(query, self.placeholder)
        direction = "DESC" if descending else "ASC"
        sql = f"SELECT document FROM {self.products} WHERE {where} ORDER BY {order_by} {direction}, id {direction}"  # noqa: S608, E501
        page_params = list(params)
        if limit is not None:
            sql += f" LIMIT {self.placeholder}"
            page_params.append(limit)
        if offset:
            sql += (
                "" if limit is not None else self.unlimited
            ) + f" OFFSET {self.placeholder}"
            page_params.append(offset)
        with self._transaction(commit=False) as curs:
            count = self._count(curs, where, params)
            curs.execute(sql, page_params)
            return [str(row["document"]) for row in curs.fetchall()], count

    def page_products(
        self,
        query: ProductFilter,
        *,
        after: str | None = None,
        limit: int = 500,
        descending: bool = False,
    ) -> ProductPage:
        where, params = where_clause(query, self.placeholder)
        if after is not None:
            where += f" AND id {'<' if descending else '>'} {self.placeholder}"
            params.append(after)
        direction = "DESC" if descending else "ASC"
        sql = f"SELECT id, document FROM {self.products} WHERE {where} ORDER BY id {direction} LIMIT {self.placeholder}"  # noqa: S608, E501
        with self._transaction(commit=False) as curs:
            curs.execute(sql, [*params, limit])
            rows = curs.fetchall()
        last_id = str(rows[-1]["id"]) if len(rows) == limit else None
        return ProductPage([str(row["document"]) for row in rows], last_id)

    def count_products(self, query: ProductFilter) -> int:
        where, params = where_clause(query, self.placeholder)
        with self._transaction(commit=False) as curs:
            return self._count(curs, where, params)

    def _count(self, curs: Any, where: str, params: list[object]) -> int:
        curs.execute(f"SELECT COUNT(*) AS n FROM {self.products} WHERE {where}", params)  # noqa: S608
        return int(curs.fetchone()["n"])

    def get_record(self, kind: str, record_id: str) -> Record | None:
        p = self.placeholder
        sql = f"SELECT * FROM {self.records} WHERE id = {p} AND kind = {p}"  # noqa: S608
        with self._transaction(commit=False) as curs:
            curs.execute(sql, [record_id, kind])
            row = curs.fetchone()
        return None if row is None else _record(row)

    def list_records(self, kind: str) -> list[Record]:
        sql = f"SELECT * FROM {self.records} WHERE kind = {self.placeholder} ORDER BY created_at DESC, id DESC"  # noqa: S608, E501
        with self._transaction(commit=False) as curs:
            curs.execute(sql, [kind])
            return [_record(row) for row in curs.fetchall()]

    def find_variant(
        self, *, variant_id: str | None = None, sku: str | None = None
    ) -> tuple[str, str] | None:
        column, value = ("id", variant_id) if variant_id is not None else ("sku", sku)
        if value is None:
            return None
        sql = f"SELECT id, product_id FROM {self.variants} WHERE {column} = {self.placeholder}"  # noqa: S608
        with self._transaction(commit=False) as curs:
            curs.execute(sql, [value])
            row = curs.fetchone()
        return None if row is None else (str(row["product_id"]), str(row["id"]))


def _record(row: Any) -> Record:
    return Record(
        row["id"], row["kind"], json.loads(row["state"]), str(row["document"])
    )


def _references(state: dict[str, Any]) -> set[str]:
    refs = {state["profile_id"], *state["sales_channel_ids"], *state["category_ids"]}
    return refs | ({state["collection_id"]} if state.get("collection_id") else set())
