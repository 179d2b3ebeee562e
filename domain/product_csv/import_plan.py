"""Import instructions from parsed rows: Medusa's operations, bodies and preview.

A row becomes one instruction: on the first row of a handle, a product create (no
`Product Id`) or update; on every row, a variant create (no `Variant Id`) or update.
Region prices are found by exact name; amounts become minor units (x100, or x1 for
zero-decimal currencies). What the catalog must already hold (regions, collections,
categories, sales channels) is looked up here, so a bad file fails before it is
confirmed and every bad row is named.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from domain.product_csv import import_checks
from domain.product_csv.cells import ZERO_DECIMAL_CURRENCIES, unquoted
from domain.product_csv.import_checks import ProductShape
from domain.product_csv.problems import Stage, row_error

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from domain.product_csv.import_rows import ParsedRow

PRODUCT_CREATE = "PRODUCT_CREATE"
VARIANT_CREATE = "VARIANT_CREATE"
PRODUCT_UPDATE = "PRODUCT_UPDATE"
VARIANT_UPDATE = "VARIANT_UPDATE"
OPERATIONS = (PRODUCT_CREATE, VARIANT_CREATE, PRODUCT_UPDATE, VARIANT_UPDATE)

PRODUCT_FIELDS = (
    "title", "subtitle", "description", "handle", "status", "thumbnail", "weight",
    "length", "width", "height", "hs_code", "origin_country", "mid_code", "material",
    "discountable", "external_id",
)  # fmt: skip
VARIANT_FIELDS = (
    "title", "sku", "barcode", "inventory_quantity", "allow_backorder",
    "manage_inventory", "weight", "length", "width", "height", "hs_code",
    "origin_country", "mid_code", "material",
)  # fmt: skip
# Fields an update never sets to null (an empty cell leaves them as they are).
NOT_NULL = frozenset(
    {"title", "handle", "status", "discountable", "inventory_quantity",
     "allow_backorder", "manage_inventory"}
)  # fmt: skip


class ImportLookups(Protocol):
    """What the plan asks of the catalog."""

    def region(self, name: str) -> tuple[str, str] | None:
        """(id, currency code) of the region with exactly this name."""
        ...

    def collection_id(self, handle: str) -> str | None: ...

    def category_id(self, handle: str) -> str | None: ...

    def sales_channel_id(self, channel: Mapping[str, str]) -> str | None:
        """By `id`, else by `name`; None if neither is found (Medusa drops it)."""
        ...

    def product(self, product_id: str) -> ProductShape | None:
        """The live product with this id."""
        ...

    def product_id_by_handle(self, handle: str) -> str | None: ...

    def sku_owner(self, sku: str) -> str | None:
        """The id of the live product whose variant has this SKU."""
        ...

    def prefetch(
        self, handles: Iterable[str], skus: Iterable[str], product_ids: Iterable[str]
    ) -> None:
        """Read these ahead, in bulk (the rows about to be planned name them)."""
        ...


def computerize(amount: float, currency_code: str) -> int:
    """Medusa's computerizeAmount: Math.round(amount x 100), or x1 without minor units."""
    factor = 1 if currency_code.lower() in ZERO_DECIMAL_CURRENCIES else 100
    return math.floor(amount * factor + 0.5)


def stat_message(operations: Mapping[str, int]) -> str:
    """Medusa's preview text, its spacing kept (the admin UI reads the numbers)."""
    return (
        f"There will be {operations[PRODUCT_CREATE]} products created "
        f"({operations[PRODUCT_UPDATE]}  updated)."
        f"\n             {operations[VARIANT_CREATE]} variants will be created "
        f"and {operations[VARIANT_UPDATE]} updated"
    )


def preview(operations: Mapping[str, int]) -> dict[str, Any]:
    """The pre-processing `result`."""
    return {
        "advancement_count": 0,
        "count": sum(operations.values()),
        "operations": {op: operations[op] for op in OPERATIONS},
        "stat_descriptors": [
            {
                "key": "product-import-count",
                "name": "Products/variants to import",
                "message": stat_message(operations),
            }
        ],
    }


def drop_echoes(prices: Iterable[Mapping[str, Any]], kept: set[str]) -> list[Any]:
    """Prices without the export's echo of a region price in `Price <CUR>`.

    An export writes a region price twice: under its region and under its currency
    (Medusa does too). A currency price flagged `echo` is dropped unless its
    currency is in `kept` (the variant already has a price of its own in it).
    """
    return [
        {key: value for key, value in price.items() if key != "echo"}
        for price in prices
        if not price.get("echo") or price["currency_code"] in kept
    ]


_STAGES = {
    PRODUCT_CREATE: Stage.PRODUCT_CREATE,
    PRODUCT_UPDATE: Stage.PRODUCT_UPDATE,
    VARIANT_CREATE: Stage.VARIANT_CREATE,
    VARIANT_UPDATE: Stage.VARIANT_UPDATE,
}


class ImportPlanner:
    """Turns rows into instructions, counting operations; problems go on the row.

    Each problem is staged where Medusa would meet it (problems.Stage), and the
    catalog checks processing makes are made here (import_checks), on the catalog
    as the rows before left it.
    """

    def __init__(self, lookups: ImportLookups) -> None:
        self._lookups = lookups
        self._handles: set[str] = set()
        self.operations = dict.fromkeys(OPERATIONS, 0)
        self._shapes: dict[str, ProductShape | None] = {}  # by handle
        self._skus: dict[str, str] = {}  # SKUs the file's rows so far set -> owner
        self._new_variants = 0

    def prefetch(self, rows: Iterable[ParsedRow]) -> None:
        """Let the lookups read what these rows name in bulk.

        The products first: a row of an existing product needs no read of its own
        handle or of a SKU the product already has.
        """
        rows = list(rows)
        ids = {str(r.product["id"]) for r in rows if r.product.get("id")}
        self._lookups.prefetch((), (), ids)
        handles, skus = set(), set()
        for row in rows:
            product_id, handle = row.product.get("id"), row.product.get("handle")
            shape = self._lookups.product(str(product_id)) if product_id else None
            if handle and not product_id and handle not in self._handles:
                handles.add(str(handle))
            sku = row.variant.get("sku")
            if sku and sku not in self._skus and not (shape and sku in shape.skus):
                skus.add(str(sku))
        self._lookups.prefetch(handles, skus, ())

    def plan(self, row: ParsedRow) -> dict[str, Any]:
        product, variant = row.product, row.variant
        handle = str(product.get("handle") or "")
        instruction: dict[str, Any] = {
            "line": row.line,
            "ref": row.reference,
            "handle": handle,
            "product_id": product.get("id"),
            "variant_id": variant.get("id"),
            "product_op": None,
        }
        variant_op = VARIANT_UPDATE if variant.get("id") else VARIANT_CREATE
        product_op = None
        if handle and handle not in self._handles:
            self._handles.add(handle)
            product_op = PRODUCT_UPDATE if product.get("id") else PRODUCT_CREATE
        _stage_cells(row, product_op, variant_op)
        if product_op is not None:
            instruction["product_op"] = product_op
            instruction["product"] = self._product(row, product_op)
            self.operations[product_op] += 1
        instruction["variant_op"] = variant_op
        instruction["variant"] = self._variant(row, variant_op)
        self.operations[variant_op] += 1
        return instruction

    def _product(self, row: ParsedRow, op: str) -> dict[str, Any]:
        data, create, stage = row.product, op == PRODUCT_CREATE, _STAGES[op]
        body = _fields(data, PRODUCT_FIELDS, create=create)
        if create and not data.get("title"):
            row.add_problem("Product Title", "a new product needs a title", stage=stage)
        self._check_product(row, body, op)
        collection = unquoted(data.get("collection_handle"))
        if collection:
            found = self._lookups.collection_id(collection)
            if found is None:
                detail = f"Product collection with handle: {collection} was not found"
                _refuse(row, "Product Collection Handle", detail, stage)
            body["collection_id"] = found
        if "type" in data and (data["type"] or not create):
            body["type"] = {"value": unquoted(data["type"])} if data["type"] else None
        if data.get("tags"):
            body["tags"] = [{"value": tag} for tag in str(data["tags"]).split(",")]
        if "images" in data and (data["images"] or not create):
            body["images"] = list(data["images"])
        if create and data.get("options"):
            body["options"] = [{"title": o["title"]} for o in data["options"]]
        channels = self._channels(data.get("sales_channels") or [])
        if channels:
            body["sales_channels"] = [{"id": c} for c in channels]
        categories = self._categories(row, data.get("categories") or [], stage)
        if categories:
            body["categories"] = [{"id": c} for c in categories]
        return body

    def _check_product(self, row: ParsedRow, body: dict[str, Any], op: str) -> None:
        """Processing's refusals of a product create or update; its shape is kept."""
        handle = str(row.product.get("handle"))
        refused: tuple[str, str | None] = (
            "Product Status",
            import_checks.bad_status(body.get("status")),
        )
        shape: ProductShape | None = None
        if op == PRODUCT_CREATE:
            titles = [str(o["title"]) for o in row.product.get("options") or []]
            shape = ProductShape(id="", handle=handle, options=titles)
            if refused[1] is None and self._lookups.product_id_by_handle(handle):
                refused = "Product Handle", import_checks.taken_handle(handle)
        else:
            product_id = str(row.product["id"])
            shape = self._lookups.product(product_id)
            if shape is None:
                refused = "Product Id", f"Product with id: {product_id} was not found"
            elif refused[1] is None and shape.handle != handle:
                owner = self._lookups.product_id_by_handle(handle)
                if owner not in (None, product_id):
                    refused = "Product Handle", import_checks.taken_handle(handle)
        self._shapes[handle] = shape
        column, problem = refused
        if problem is not None:
            _refuse(row, column, problem, _STAGES[op])

    def _channels(self, entries: list[dict[str, str]]) -> list[str]:
        found = (self._lookups.sales_channel_id(entry) for entry in entries)
        return list(dict.fromkeys(c for c in found if c is not None))

    def _categories(
        self, row: ParsedRow, handles: list[str], stage: Stage
    ) -> list[str]:
        ids: list[str] = []
        for handle in handles:
            found = self._lookups.category_id(handle)
            if found is None:
                detail = f"Product category with handle: {handle} was not found"
                _refuse(row, "Product Category Handle", detail, stage)
            elif found not in ids:
                ids.append(found)
        return ids

    def _variant(self, row: ParsedRow, op: str) -> dict[str, Any]:
        data, create, stage = row.variant, op == VARIANT_CREATE, _STAGES[op]
        body = _fields(data, VARIANT_FIELDS, create=create)
        if create and not data.get("title"):
            row.add_problem("Variant Title", "a new variant needs a title", stage=stage)
        prices = self._prices(row, data.get("prices") or [])
        if prices:
            body["prices"] = prices
        options = [o for o in data.get("options") or [] if o["value"] is not None]
        if options:
            body["options"] = options
        self._check_variant(row, body, op)
        return body

    def _check_variant(self, row: ParsedRow, body: dict[str, Any], op: str) -> None:
        """Processing's refusals of a variant create or update, in its order."""
        create = op == VARIANT_CREATE
        shape = self._shapes.get(str(row.product.get("handle") or ""))
        values = {o["title"]: o["value"] for o in body.get("options") or []}
        variant_id = str(row.variant.get("id") or f"new:{self._new_variants}")
        refused: tuple[str, str | None] = ("", None)
        if shape is not None:
            if not create and variant_id not in shape.variants:
                refused = "Variant Id", f"Variant with id: {variant_id} was not found"
            else:
                title = str(body.get("title"))
                refused = (
                    "Option Value",
                    import_checks.option_problem(shape, values, title, create=create),
                )
        if refused[1] is None:
            refused = "Price", import_checks.bad_currency(body.get("prices") or [])
        sku = body.get("sku")
        if refused[1] is None and sku:
            refused = "Variant SKU", self._check_sku(str(sku), variant_id, shape)
        column, problem = refused
        if problem is not None:
            _refuse(row, column, problem, _STAGES[op])
            return
        if shape is not None:
            self._new_variants += create
            shape.variants[variant_id] = {
                **shape.variants.get(variant_id, {}),
                **values,
            }

    def _check_sku(
        self, sku: str, variant_id: str, shape: ProductShape | None
    ) -> str | None:
        """Taken by an earlier row, or by another product's (or variant's) SKU."""
        owner = self._skus.get(sku)
        if owner is None and shape is not None and sku in shape.skus:
            owner = shape.skus[sku]  # the product's own variant has it
        elif owner is None:
            product_id = self._lookups.sku_owner(sku)
            if product_id is not None and (shape is None or shape.id != product_id):
                owner = product_id
        if owner is not None and owner != variant_id:
            return import_checks.taken_sku(sku)
        self._skus[sku] = variant_id
        return None

    def _prices(self, row: ParsedRow, given: list[dict[str, Any]]) -> list[Any]:
        prices: list[dict[str, Any]] = []
        for price in given:
            name = price.get("region_name")
            if name is None:
                if price["amount"] is None:
                    continue  # not a number: the row has that problem already
                code = str(price["currency_code"]).lower()
                amount = computerize(price["amount"], code)
                prices.append({"currency_code": code, "amount": amount})
                continue
            region = self._lookups.region(name)
            if region is None:
                message = (
                    f"Trying to set a price for a region {name} that doesn't exist"
                )
                row.add_problem(f"Price {name}", message, message, stage=Stage.PREPARE)
                continue
            if price["amount"] is None:
                continue
            region_id, code = region
            prices.append(
                {"region_id": region_id, "amount": computerize(price["amount"], code),
                 "currency_code": code}
            )  # fmt: skip
        by_region = {
            (p["currency_code"], p["amount"]) for p in prices if "region_id" in p
        }
        for price in prices:
            if "region_id" not in price and (
                (price["currency_code"], price["amount"]) in by_region
            ):
                price["echo"] = True
        return prices


def _stage_cells(row: ParsedRow, product_op: str | None, variant_op: str) -> None:
    """Bad cells meet Medusa when their product or variant is saved."""
    if not row.problems:
        return
    stages = {
        "product": _STAGES[product_op or variant_op],
        "variant": _STAGES[variant_op],
    }
    row.problems = [
        replace(p, stage=stages[p.part]) if p.part in stages else p
        for p in row.problems
    ]


def _refuse(row: ParsedRow, column: str, detail: str, stage: Stage) -> None:
    """A refusal processing would make, with its Medusa row error."""
    row.add_problem(column, detail, row_error(row.reference, detail), stage=stage)


def _fields(
    data: Mapping[str, Any], names: tuple[str, ...], *, create: bool
) -> dict[str, Any]:
    """The columns present: a create takes the filled ones; an update sets nulls too."""
    return {
        name: unquoted(data[name])
        for name in names
        if name in data
        and (data[name] is not None or (not create and name not in NOT_NULL))
    }
