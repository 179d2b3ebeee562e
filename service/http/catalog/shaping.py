"""`fields` and `expand` on product documents, as Medusa's prepareListQuery applies them."""

from __future__ import annotations

from typing import Any

from domain.catalog.products import COLUMNS
from domain.errors import InvalidDataError
from projections.catalog.documents import PRICING_KEYS

ALL_COLUMNS = ("id", "created_at", "updated_at", "deleted_at", *COLUMNS)
DEFAULT_RELATIONS = frozenset({
    "variants", "variants.prices", "variants.options", "profiles", "images", "options",
    "options.values", "tags", "type", "collection", "sales_channels", "categories",
})  # fmt: skip
RELATIONS = DEFAULT_RELATIONS
TOP_LEVEL = (
    "categories", "collection", "images", "options", "profiles", "sales_channels",
    "tags", "type", "variants",
)  # fmt: skip


def parse_fields(value: Any, *, listing: bool) -> tuple[str, ...] | None:
    """The selected columns (None: all); `id` always, and `created_at` in lists."""
    if value is None:
        return None
    if not isinstance(value, str):  # fields[a]=x: qs made it an object
        raise InvalidDataError("fields must be a string")
    requested = [field for field in value.split(",") if field]
    invalid = [field for field in requested if field not in ALL_COLUMNS]
    if invalid:
        raise InvalidDataError(f"Requested fields [{', '.join(invalid)}] are not valid")
    extra = ("id", "created_at") if listing else ("id",)
    return tuple(dict.fromkeys([*extra, *requested]))


def parse_expand(value: Any) -> frozenset[str]:
    """The relations to load: the defaults without `expand`, none with `expand=`."""
    if value is None:
        return DEFAULT_RELATIONS
    if not isinstance(value, str):
        raise InvalidDataError("expand must be a string")
    requested = [relation for relation in value.split(",") if relation]
    invalid = [relation for relation in requested if relation not in RELATIONS]
    if invalid:
        raise InvalidDataError(f"Requested fields [{', '.join(invalid)}] are not valid")
    # A nested relation loads its parent too (TypeORM joins the path).
    return frozenset(requested) | {r.split(".")[0] for r in requested}


def shape(
    document: dict[str, Any], columns: tuple[str, ...] | None, relations: frozenset[str]
) -> dict[str, Any]:
    """The document with only the selected columns and loaded relations."""
    shaped = {c: document[c] for c in (columns or ALL_COLUMNS) if c in document}
    for relation in TOP_LEVEL:
        if relation not in relations:
            continue
        value = document[relation]
        if relation == "variants":
            value = [_variant(v, relations) for v in value]
        elif relation == "options" and "options.values" not in relations:
            value = [{k: v for k, v in o.items() if k != "values"} for o in value]
        shaped[relation] = value
        if relation == "profiles":
            shaped["profile"] = document["profile"]
            shaped["profile_id"] = document["profile_id"]
    return shaped


def _variant(variant: dict[str, Any], relations: frozenset[str]) -> dict[str, Any]:
    dropped: set[str] = set()
    if "variants.prices" not in relations:
        dropped |= {"prices", *PRICING_KEYS}
    if "variants.options" not in relations:
        dropped.add("options")
    return {k: v for k, v in variant.items() if k not in dropped}
