"""Applying import instructions to one catalog change set (saved atomically later)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain.catalog.base import public_state
from domain.errors import DomainError, InvalidDataError, NotFoundError
from domain.product_csv.import_checks import BAD_STATUS, STATUSES
from domain.product_csv.import_plan import (
    PRODUCT_CREATE,
    PRODUCT_UPDATE,
    VARIANT_CREATE,
    drop_echoes,
)
from domain.product_csv.problems import row_error

if TYPE_CHECKING:
    from domain.catalog.products import Product
    from service.catalog.commands import Catalog
    from service.catalog.lookups import CatalogLookups
    from service.catalog.staged import StagedChanges


class _UngroupableError(Exception):
    """A new product's rows that only the row-by-row path can judge."""


class InstructionApplier:
    """Products then their variants, row by row, all into `changes`.

    A new product's consecutive rows are buffered and the product is created with
    all its variants at once (one event, as the API's create makes), a fifth of
    the work of a create and an add per row. Rows that would fail, or that the
    grouped create could judge differently (an unknown option, two variants with
    the same values), go row by row, so the error is Medusa's, on its row.
    """

    def __init__(
        self, catalog: Catalog, changes: StagedChanges, lookups: CatalogLookups
    ) -> None:
        self._catalog = catalog
        self._changes = changes
        self._lookups = lookups
        self._product_ids: dict[str, str] = {}  # handle -> product, for later rows
        self._pending: list[dict[str, Any]] = []  # a new product's rows so far

    def prefetch(self, instructions: list[dict[str, Any]]) -> None:
        """Read the products these instructions update, in bulk."""
        ids = (
            self._product_ids.get(i["handle"]) or i.get("product_id")
            for i in instructions
        )
        self._changes.prefetch(str(found) for found in ids if found)

    def apply(self, instruction: dict[str, Any]) -> int:
        """Apply one row; returns how many operations it makes (1 or 2).

        A new product's rows wait for `settle()` or the next product's row.
        """
        if self._pending and not self._continues(instruction):
            self.settle()
        if self._pending or (
            instruction["product_op"] == PRODUCT_CREATE
            and instruction["variant_op"] == VARIANT_CREATE
        ):
            self._pending.append(instruction)
            return 1 if instruction["product_op"] is None else 2
        return self._apply_row(instruction)

    def settle(self) -> None:
        """Create the buffered new product with all its variants."""
        rows, self._pending = self._pending, []
        if not rows:
            return
        try:
            body = self._grouped_body(rows)
            created = self._catalog.create_product(self._changes, body)
        except (DomainError, _UngroupableError):
            for row in rows:  # nothing was added: the rows again, one by one
                self._apply_row(row)
            return
        self._product_ids[rows[0]["handle"]] = created.id

    def _continues(self, instruction: dict[str, Any]) -> bool:
        return (
            instruction["product_op"] is None
            and instruction["variant_op"] == VARIANT_CREATE
            and instruction["handle"] == self._pending[0]["handle"]
        )

    def _grouped_body(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        body = dict(rows[0].get("product") or {})
        if body.get("status") is not None and body["status"] not in STATUSES:
            raise _UngroupableError
        titles = [option["title"] for option in body.get("options") or []]
        seen: set[frozenset[tuple[str, Any]]] = set()
        variants = []
        for row in rows:
            given = row["variant"]
            options = given.get("options") or []
            values = {v["title"]: v["value"] for v in options}
            if set(values) != set(titles) or len(values) != len(options):
                raise _UngroupableError  # an unknown, missing or repeated option
            key = frozenset(values.items())
            if values and key in seen:
                raise _UngroupableError  # the same values twice: Medusa's error, row by row
            seen.add(key)
            data = self._variant_data(None, given, kept=set())
            data["options"] = [{"value": values[title]} for title in titles]
            variants.append(data)
        return {**body, "variants": variants}

    def _apply_row(self, instruction: dict[str, Any]) -> int:
        try:
            return self._apply(instruction)
        except DomainError as error:
            raise InvalidDataError(row_error(instruction["ref"], str(error))) from error

    def _apply(self, instruction: dict[str, Any]) -> int:
        handle = instruction["handle"]
        op = instruction["product_op"]
        body = dict(instruction.get("product") or {})
        if body.get("status") is not None and body["status"] not in STATUSES:
            raise InvalidDataError(BAD_STATUS)
        if op == PRODUCT_CREATE:
            created = self._catalog.create_product(self._changes, body)
            self._product_ids[handle] = created.id
        elif op == PRODUCT_UPDATE:
            product_id = str(instruction["product_id"])
            current = self._catalog.get_product(self._changes, product_id)
            body = _changed_only(current, body)
            self._catalog.update_product(self._changes, product_id, body)
            self._product_ids[handle] = product_id
        product = self._catalog.get_product(self._changes, self._product_id(handle))
        if instruction["variant_op"] == VARIANT_CREATE:
            self._create_variant(product, instruction["variant"])
        else:
            self._update_variant(
                product, str(instruction["variant_id"]), instruction["variant"]
            )
        return 1 if op is None else 2

    def _product_id(self, handle: str) -> str:
        found = self._product_ids.get(handle) or self._lookups.product_id_by_handle(
            handle
        )
        if found is None:
            raise NotFoundError(f"Product with handle {handle} was not found")
        self._product_ids[handle] = found
        return found

    def _create_variant(self, product: Product, given: dict[str, Any]) -> None:
        data = self._variant_data(product, given, kept=set())
        context = self._catalog.context(self._changes, {"variants": [data]})
        product.add_variant(data, context, self._changes.actor)

    def _update_variant(
        self, product: Product, variant_id: str, given: dict[str, Any]
    ) -> None:
        current = product.variant(variant_id)
        own = {p["currency_code"] for p in current["prices"] if not p.get("region_id")}
        data = self._variant_data(product, given, kept=own)
        context = self._catalog.context(self._changes, {"variants": [data]})
        product.update_variant(variant_id, data, context, self._changes.actor)

    def _variant_data(
        self, product: Product | None, given: dict[str, Any], kept: set[str]
    ) -> dict[str, Any]:
        """The variant's body; its options by id (none without `product`)."""
        data = {k: v for k, v in given.items() if k not in {"options", "prices"}}
        if "prices" in given:
            data["prices"] = [
                {k: v for k, v in price.items() if not (k == "currency_code" and
                                                       "region_id" in price)}
                for price in drop_echoes(given["prices"], kept)
            ]  # fmt: skip
        if product is not None and given.get("options"):
            ids = {option["title"]: option["id"] for option in product.options}
            values = []
            for value in given["options"]:
                option_id = ids.get(value["title"])
                if option_id is None:
                    raise NotFoundError(
                        f"Product option with title {value['title']} was not found"
                    )
                values.append({"option_id": option_id, "value": value["value"]})
            data["options"] = values
        return data


def _changed_only(product: Product, body: dict[str, Any]) -> dict[str, Any]:
    """An update body without the images, tags and type the product already has.

    An update re-creates them (new `created_at`): a row that repeats them (an
    exported file imported back) leaves them as they are.
    """
    state = public_state(product)
    have = {
        "images": [image["url"] for image in state.get("images") or []],
        "tags": [tag["value"] for tag in state.get("tags") or []],
        "type": (state.get("type") or {}).get("value"),
    }
    wanted = {
        "images": body.get("images"),
        "tags": [tag["value"] for tag in body.get("tags") or []],
        "type": (body.get("type") or {}).get("value"),
    }
    return {
        key: value
        for key, value in body.items()
        if key not in have or have[key] != wanted[key]
    }
