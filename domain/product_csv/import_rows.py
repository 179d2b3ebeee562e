r"""Reading an import CSV row by row: delimiter, header, cells typed into product/variant.

Works on any iterable of text lines (a file opened with `newline=""`): the stdlib `csv`
reader does the quoting, so cells may hold delimiters and newlines; `\r\n` and `\n`
both end a row, a UTF-8 BOM and blank lines (a trailing newline) are ignored.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from domain.errors import InvalidDataError
from domain.product_csv.cells import unguarded
from domain.product_csv.import_columns import (
    IGNORED,
    REQUIRED,
    CellError,
    Kind,
    Resolved,
    amount_of,
    convert,
    resolve,
    suggestion,
)
from domain.product_csv.import_limits import (
    MAX_CELLS_PER_LINE,
    MAX_COLUMNS,
    LineGuard,
    check_no_nul,
    too_many_cells,
)
from domain.product_csv.problems import (
    PARSING_FAILED,
    Problem,
    Stage,
    row_error,
    row_reference,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

_LIST_ROLES = {
    "option_name": ("product", "options"),
    "image": ("product", "images"),
    "channel_id": ("product", "sales_channels"),
    "channel_name": ("product", "sales_channels"),
    "channel_description": ("product", "sales_channels"),
    "category_handle": ("product", "categories"),
    "option_value": ("variant", "options"),
    "region_price": ("variant", "prices"),
    "currency_price": ("variant", "prices"),
}


def detect_delimiter(header_line: str) -> str:
    """`,` or `;`: whichever the header uses more (Papa guesses among the same)."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


@dataclass
class ParsedRow:
    """One data row, typed into its product and variant parts.

    `index` is Medusa's line number (1 = the first data row); `line` is the file line
    the row starts on (the header is line 1).
    """

    index: int
    line: int
    cells: list[str]
    product: dict[str, Any] = field(default_factory=dict)
    variant: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def reference(self) -> dict[str, str]:
        return row_reference(self.product, self.variant)

    def add_problem(
        self,
        column: str,
        detail: str,
        medusa: str | None = None,
        *,
        stage: Stage = Stage.PARSE,
        part: str = "",
    ) -> None:
        """A problem of this row; Medusa's message defaults to its row error."""
        if medusa is None:
            medusa = row_error(self.reference, f"{column}: {detail}")
        self.problems.append(Problem(self.line, column, detail, medusa, stage, part))


class ImportHeader:
    """The header row resolved against the schema, with its problems."""

    def __init__(self, names: list[str], delimiter: str = ",") -> None:
        self.delimiter = delimiter
        self.names = [name.lstrip("\ufeff").strip() for name in names]
        self.columns = [resolve(name) for name in self.names]
        # Each used column's cell handler, resolved once, not once per cell.
        self._handlers = [
            (position, name, handler, _part(column))
            for position, (name, column) in enumerate(
                zip(self.names, self.columns, strict=True)
            )
            if column is not None and (handler := _handler(column)) is not None
        ]
        roles = {column.role for column in self.columns if column is not None}
        # The lists a row starts with (empty even when its cells are), as Medusa's.
        self._lists = sorted({_LIST_ROLES[r] for r in roles if r in _LIST_ROLES})
        self.problems: list[Problem] = []
        for name, column in zip(self.names, self.columns, strict=True):
            if column is None:
                self._unknown(name)
        if REQUIRED not in self.names:
            message = f'{PARSING_FAILED}Missing column(s) "{REQUIRED}" from the given csv file'
            self.problems.append(
                Problem(1, REQUIRED, "the required column is missing", message)
            )

    def _unknown(self, name: str) -> None:
        guess = suggestion(name)
        detail = "not a column of the product import"
        if guess is not None:
            detail += f'; did you mean "{guess}"?'
        message = (
            f"{PARSING_FAILED}Unable to treat column {name} from the csv file. "
            "No target column found in the provided schema"
        )
        self.problems.append(Problem(1, name, detail, message))

    def parse(self, index: int, line: int, cells: list[str]) -> ParsedRow:
        row = ParsedRow(index=index, line=line, cells=cells)
        for part, name in self._lists:
            getattr(row, part)[name] = []
        channels: dict[int, dict[str, Any]] = {}
        bad_cells: list[tuple[str, str, str]] = []
        count = len(cells)
        for position, name, handler, part in self._handlers:
            if position < count:
                try:
                    handler(row, cells[position], channels)
                except CellError as error:
                    bad_cells.append((name, str(error), part))
        _gather(row, channels)
        for name, detail, part in bad_cells:
            # Medusa meets a bad value when it saves it: the planner sets the stage.
            row.add_problem(name, detail, part=part)
        self._check_shape(row, cells)
        return row

    def _check_shape(self, row: ParsedRow, cells: list[str]) -> None:
        """The required handle; cells beyond the header (Papa's last key)."""
        if REQUIRED in self.names and not row.product.get("handle"):
            message = (
                f'{PARSING_FAILED}No value found for target column "{REQUIRED}" '
                f"in line {row.index} of the given csv file"
            )
            row.problems.append(Problem(row.line, REQUIRED, "no value", message))
        if any(cell.strip() for cell in cells[len(self.names) :]):
            message = (
                f"{PARSING_FAILED}Unable to treat column __parsed_extra from the csv "
                "file. No target column found in the provided schema"
            )
            detail = "more cells than the header has"
            row.problems.append(Problem(row.line, "__parsed_extra", detail, message))


def _part(column: Resolved) -> str:
    """Whether a column's cell goes to the product or to the variant."""
    if column.static is not None:
        return column.static.target.split(".")[0]
    return _LIST_ROLES.get(column.role, ("product", ""))[0]


def _gather(row: ParsedRow, channels: dict[int, dict[str, Any]]) -> None:
    """Sales channels by their number; option values named by their row's Option Name."""
    if "sales_channels" in row.product:
        row.product["sales_channels"] = [channels[n] for n in sorted(channels)]
    if "options" in row.variant:
        titles = {o["index"]: o["title"] for o in row.product.get("options") or []}
        for value in row.variant["options"]:
            value["title"] = titles.get(value.pop("index"))


_Handler = Callable[[ParsedRow, str, dict[int, dict[str, Any]]], None]


def _handler(column: Resolved) -> _Handler | None:
    """What a cell of this column does to its row (None: nothing)."""
    static = column.static
    if static is not None:
        if static.target == IGNORED:
            return None
        part, name = static.target.split(".")
        kind, of_product = static.kind, part == "product"

        def set_static(row: ParsedRow, cell: str, _: object) -> None:
            value = (
                (unguarded(cell) or None) if kind is Kind.TEXT else convert(cell, kind)
            )
            (row.product if of_product else row.variant)[name] = value

        return set_static
    if column.role == "type":

        def set_type(row: ParsedRow, cell: str, _: object) -> None:
            row.product["type"] = convert(unguarded(cell), Kind.TEXT)

        return set_type
    regex = _REGEX_CELLS.get(column.role)
    if regex is None:
        return None  # Product Category N Name/Description: accepted, not used

    text = column.role not in {"region_price", "currency_price"}

    def set_regex(row: ParsedRow, cell: str, channels: dict[int, Any]) -> None:
        if cell != "":  # Medusa skips an empty cell of a regex column
            regex(row, column, unguarded(cell) if text else cell, channels)

    return set_regex


def _push(part: str, name: str, item: Callable[[Resolved, str], Any]) -> _CellHandler:
    def handle(row: ParsedRow, column: Resolved, cell: str, _: object) -> None:
        getattr(row, part)[name].append(item(column, cell))

    return handle


def _price(where: Callable[[Resolved], dict[str, Any]]) -> _CellHandler:
    """A price cell; kept without an amount when that is not a number.

    So the planner still finds its region missing (Medusa looks regions up first).
    """

    def handle(row: ParsedRow, column: Resolved, cell: str, _: object) -> None:
        price = where(column)
        row.variant["prices"].append(price)
        price["amount"] = None
        price["amount"] = amount_of(cell)

    return handle


def _channel(
    _row: ParsedRow, column: Resolved, cell: str, channels: dict[int, dict[str, Any]]
) -> None:
    channels.setdefault(column.index, {})[column.role.removeprefix("channel_")] = cell


_CellHandler = Callable[[ParsedRow, Resolved, str, Any], None]
_REGEX_CELLS: dict[str, _CellHandler] = {
    "option_name": _push("product", "options", lambda c, v: {"title": v, "index": c.index}),
    "option_value": _push("variant", "options", lambda c, v: {"index": c.index, "value": v}),
    "region_price": _price(lambda c: {"region_name": c.region_name}),
    "currency_price": _price(lambda c: {"currency_code": c.currency}),
    "image": _push("product", "images", lambda _c, v: v),
    "category_handle": _push("product", "categories", lambda _c, v: v),
    "channel_id": _channel,
    "channel_name": _channel,
    "channel_description": _channel,
}  # fmt: skip


def read_rows(
    lines: Iterable[str],
) -> tuple[ImportHeader | None, Iterator[ParsedRow]]:
    """The header and the data rows of a CSV given as lines; (None, empty) if empty.

    Raises InvalidDataError (here or while the rows are read) for a file over the
    limits (import_limits), a NUL in a cell, or text the `csv` reader refuses.
    """
    source = iter(lines)
    first = next(source, "")
    while first.strip() == "" and first != "":
        first = next(source, "")
    if first == "":
        return None, iter(())
    delimiter = detect_delimiter(first)
    guard = LineGuard(_chain(first, source), delimiter)
    reader = csv.reader(guard, delimiter=delimiter)
    names = _read(reader, guard)
    if names is None:
        return None, iter(())
    if len(names) > MAX_COLUMNS:
        raise too_many_cells(1)
    header = ImportHeader(names, delimiter)

    def rows() -> Iterator[ParsedRow]:
        index = 0
        previous = reader.line_num
        while (cells := _read(reader, guard, header.names)) is not None:
            start, previous = previous + 1, reader.line_num
            if len(cells) > MAX_CELLS_PER_LINE:
                raise too_many_cells(start)
            if not any(cell.strip() for cell in cells):
                continue  # a blank line (a trailing newline): not a row
            index += 1
            yield header.parse(index, start, cells)

    return header, rows()


def _read(
    reader: Iterator[list[str]], guard: LineGuard, names: list[str] | None = None
) -> list[str] | None:
    """The next row's cells (None at the end); a NUL or a `csv` error fails the file."""
    line = guard.line + 1
    try:
        cells = next(reader, None)
    except csv.Error as error:
        raise InvalidDataError(f"{PARSING_FAILED}{error} (line {line})") from error
    if cells is not None and guard.nul_seen:
        check_no_nul(line, cells, names if names is not None else cells)
    return cells


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest
