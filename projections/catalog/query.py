"""Product filters for lists and export pages, and the SQL they become."""

from __future__ import annotations

from dataclasses import dataclass

# Columns a product list may order by (Medusa orders by any product column).
ORDERABLE = frozenset({"created_at", "updated_at", "title", "handle", "status", "id"})


@dataclass(frozen=True)
class TimeFilter:
    column: str  # created_at or updated_at
    operator: str  # lt, gt, lte, gte
    value: str  # ISO 8601 UTC with milliseconds, as stored


@dataclass(frozen=True)
class ProductFilter:
    """Filters AND-ed together; a tuple matches any of its values, None is no filter.

    `q` matches (case-insensitively, as a substring) the title, description, variant
    titles and SKUs and the collection title, like Medusa's free-text search.
    """

    ids: tuple[str, ...] | None = None
    q: str | None = None
    handle: str | None = None
    title: str | None = None
    description: str | None = None
    statuses: tuple[str, ...] | None = None
    collection_ids: tuple[str, ...] | None = None
    type_ids: tuple[str, ...] | None = None
    tag_ids: tuple[str, ...] | None = None
    sales_channel_ids: tuple[str, ...] | None = None
    category_ids: tuple[str, ...] | None = None
    is_giftcard: bool | None = None
    time_filters: tuple[TimeFilter, ...] = ()


_OPERATORS = {"lt": "<", "gt": ">", "lte": "<=", "gte": ">="}


def like_pattern(text: str) -> str:
    r"""`%text%` with LIKE's wildcards in `text` escaped (with `\`)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def where_clause(query: ProductFilter, mark: str) -> tuple[str, list[object]]:
    """The WHERE of live products matching `query`; `mark` is the placeholder."""
    clauses, params = ["deleted = 0"], list[object]()
    for clause, values in (*_exact(query, mark), *_others(query, mark)):
        clauses.append(clause)
        params.extend(values)
    return " AND ".join(clauses), params


def _exact(query: ProductFilter, mark: str) -> list[tuple[str, list[object]]]:
    found: list[tuple[str, list[object]]] = []
    for column, values in (("id", query.ids), ("status", query.statuses),
                           ("collection_id", query.collection_ids),
                           ("type_id", query.type_ids)):  # fmt: skip
        if values is not None:
            marks = ", ".join([mark] * len(values))
            found.append((f"{column} IN ({marks})" if values else "1 = 0", [*values]))
    for column, value in (("handle", query.handle), ("title", query.title),
                          ("description", query.description)):  # fmt: skip
        if value is not None:
            found.append((f"{column} = {mark}", [value]))
    if query.is_giftcard is not None:
        found.append((f"is_giftcard = {mark}", [int(query.is_giftcard)]))
    return found


def _others(query: ProductFilter, mark: str) -> list[tuple[str, list[object]]]:
    found: list[tuple[str, list[object]]] = []
    like = f"LIKE {mark} ESCAPE '\\'"
    for values in (query.tag_ids, query.sales_channel_ids, query.category_ids):
        if values is not None:
            refs = " OR ".join([f"refs {like}"] * len(values)) or "1 = 0"
            found.append((f"({refs})", [like_pattern(f" {v} ") for v in values]))
    if query.q:
        found.append((f"search {like}", [like_pattern(query.q.lower())]))
    for time_filter in query.time_filters:
        if time_filter.column not in {"created_at", "updated_at"}:
            raise ValueError(f"not a time column: {time_filter.column}")
        operator = _OPERATORS[time_filter.operator]
        found.append((f"{time_filter.column} {operator} {mark}", [time_filter.value]))
    return found
