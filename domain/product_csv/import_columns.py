"""The product import's columns: Medusa v1's schema, static and regex, and typed cells."""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

REQUIRED = "Product Handle"
IGNORED = "__not_supported__"


class Kind(Enum):
    TEXT = "text"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class Column:
    """A static column: where its cell goes (`product.x`, `variant.x`) and its kind."""

    name: str
    target: str
    kind: Kind = Kind.TEXT


def _static() -> dict[str, Column]:
    text = Kind.TEXT
    product = (
        ("Id", "id", text), ("Handle", "handle", text), ("Title", "title", text),
        ("Subtitle", "subtitle", text), ("Description", "description", text),
        ("Status", "status", text), ("Thumbnail", "thumbnail", text),
        ("Weight", "weight", Kind.NUMBER), ("Length", "length", Kind.NUMBER),
        ("Width", "width", Kind.NUMBER), ("Height", "height", Kind.NUMBER),
        ("HS Code", "hs_code", text), ("Origin Country", "origin_country", text),
        ("MID Code", "mid_code", text), ("Material", "material", text),
        ("Collection Title", "collection_title", text),
        ("Collection Handle", "collection_handle", text),
        ("Tags", "tags", text), ("Discountable", "discountable", Kind.BOOLEAN),
        ("External Id", "external_id", text),
    )  # fmt: skip
    variant = (
        ("Id", "id", text), ("Title", "title", text), ("SKU", "sku", text),
        ("Barcode", "barcode", text),
        ("Inventory Quantity", "inventory_quantity", Kind.INTEGER),
        ("Allow Backorder", "allow_backorder", Kind.BOOLEAN),
        ("Manage Inventory", "manage_inventory", Kind.BOOLEAN),
        ("Weight", "weight", Kind.NUMBER), ("Length", "length", Kind.NUMBER),
        ("Width", "width", Kind.NUMBER), ("Height", "height", Kind.NUMBER),
        ("HS Code", "hs_code", text), ("Origin Country", "origin_country", text),
        ("MID Code", "mid_code", text), ("Material", "material", text),
    )  # fmt: skip
    columns = [Column(f"Product {n}", f"product.{t}", k) for n, t, k in product]
    columns += [Column(f"Variant {n}", f"variant.{t}", k) for n, t, k in variant]
    columns += [
        Column("Product Profile Name", IGNORED),
        Column("Product Profile Type", IGNORED),
    ]
    return {column.name: column for column in columns}


STATIC = _static()

# Medusa's regex columns, in its schema order; unanchored, the first match wins.
REGEX_COLUMNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("type", re.compile(r"Product Type")),
    ("option_name", re.compile(r"Option \d+ Name")),
    ("option_value", re.compile(r"Option \d+ Value")),
    ("region_price", re.compile(r"Price (.*) \[([A-Z]{3})\]")),
    ("currency_price", re.compile(r"Price [A-Z]{3}")),
    ("image", re.compile(r"Image \d+ Url")),
    ("channel_name", re.compile(r"Sales Channel \d+ Name")),
    ("channel_description", re.compile(r"Sales Channel \d+ Description")),
    ("channel_id", re.compile(r"Sales Channel \d+ Id")),
    ("category_handle", re.compile(r"Product Category \d+ Handle")),
    ("category_name", re.compile(r"Product Category \d+ Name")),
    ("category_description", re.compile(r"Product Category \d+ Description")),
)
# Names a near miss is compared with: the static ones and a regex column's pattern.
_KNOWN_NAMES = (
    *STATIC,
    "Product Type", "Option 1 Name", "Option 1 Value", "Price USD", "Image 1 Url",
    "Sales Channel 1 Id", "Sales Channel 1 Name", "Sales Channel 1 Description",
    "Product Category 1 Handle", "Product Category 1 Name",
    "Product Category 1 Description",
)  # fmt: skip


@dataclass(frozen=True)
class Resolved:
    """A header resolved: a static column, or a regex column's role and index."""

    header: str
    static: Column | None = None
    role: str = ""
    index: int = 0  # Option/Image/Sales Channel/Category N, 1-based
    region_name: str = ""  # Price <Region> [CUR]
    currency: str = ""  # Price <CUR>


def resolve(header: str) -> Resolved | None:
    """Medusa's lookup: an exact static name, else the first regex that matches."""
    static = STATIC.get(header)
    if static is not None:
        return Resolved(header, static=static)
    for role, pattern in REGEX_COLUMNS:
        match = pattern.search(header)
        if match is None:
            continue
        number = re.search(r"\d+", header) if role != "type" else None
        return Resolved(
            header,
            role=role,
            index=int(number.group()) if number else 0,
            region_name=match.group(1) if role == "region_price" else "",
            currency=header.split(" ")[1] if role == "currency_price" else "",
        )
    return None


def suggestion(header: str) -> str | None:
    """The known column a misspelt header probably meant ("Product Handel")."""
    close = difflib.get_close_matches(header, _KNOWN_NAMES, n=1, cutoff=0.75)
    return close[0] if close else None


# Papa Parse 5.3's dynamicTyping: its float and ISO date patterns.
_FLOAT = re.compile(r"^\s*-?(\d+\.?|\.\d+|\d+\.\d+)([eE][-+]?\d+)?\s*$")
_ISO_DATE = re.compile(
    r"^((\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\d\.\d+([+-][0-2]\d:[0-5]\d|Z))|"
    r"(\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\d([+-][0-2]\d:[0-5]\d|Z))|"
    r"(\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d([+-][0-2]\d:[0-5]\d|Z)))$"
)
_MAX_SAFE = 2**53


def typed(cell: str) -> object:
    """A cell as Papa's dynamicTyping makes it: null, a boolean, a number, a date."""
    if cell == "":
        return None
    if cell in ("true", "TRUE"):
        return True
    if cell in ("false", "FALSE"):
        return False
    if _FLOAT.match(cell):
        number = float(cell)
        if abs(number) <= _MAX_SAFE:
            return number
    if _ISO_DATE.match(cell):
        return datetime.fromisoformat(cell)
    return cell


class CellError(ValueError):
    """A cell that does not fit its column's kind."""


def convert(cell: str, kind: Kind) -> object:
    """A cell for its column: text stays text (so "007" keeps its zeros); empty is None."""
    if cell == "":
        return None
    if kind is Kind.TEXT:
        return cell
    value = typed(cell)
    if kind is Kind.BOOLEAN:
        if not isinstance(value, bool):
            raise CellError(f'"{cell}" is not TRUE or FALSE')
        return value
    if not isinstance(value, float):
        raise CellError(f'"{cell}" is not a number')
    if kind is Kind.INTEGER:
        if not value.is_integer():
            raise CellError(f'"{cell}" is not a whole number')
        return int(value)
    return value


def amount_of(cell: str) -> float:
    """A price cell: a human amount ("1.10"); anything else is an error."""
    value = typed(cell)
    if not isinstance(value, float) or not math.isfinite(value):
        raise CellError(f'"{cell}" is not a number')
    return value
