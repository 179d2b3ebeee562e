r"""Limits of an import file, checked on its raw lines before the `csv` reader splits them.

A header of a million empty columns fits in an upload; split into cells it would take
gigabytes, and every bad row's report line would repeat it. So a line's cells are
counted on the raw text first (delimiters outside quotes, at C speed unless the line
comes near the limit), and the file fails with one clear error. A NUL (U+0000) is
refused too: no store of the catalog can hold it (PostgreSQL text cannot).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.errors import InvalidDataError
from domain.product_csv.problems import PARSING_FAILED

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

MAX_COLUMNS = 2_000  # columns in the header of one file
MAX_CELLS_PER_LINE = 2_000  # cells in one line of data
MAX_REPORT_BYTES = 10 * 1024 * 1024  # the error report file stops growing here
NUL = "\x00"


class LineGuard:
    """The file's lines, passed on unchanged once they are within the limits."""

    def __init__(self, lines: Iterable[str], delimiter: str) -> None:
        self._lines = lines
        self._delimiter = delimiter
        self.line = 0  # physical lines read
        self.nul_seen = False  # a NUL passed: the row that holds it names it

    def __iter__(self) -> Iterator[str]:
        inside = False  # in a quoted cell at the start of the line
        delimiter = self._delimiter
        for text in self._lines:
            self.line += 1
            limit = MAX_COLUMNS if self.line == 1 else MAX_CELLS_PER_LINE
            if text.count(delimiter) >= limit and (
                _delimiters_outside_quotes(text, delimiter, inside=inside) >= limit
            ):
                raise too_many_cells(self.line)
            if NUL in text:
                self.nul_seen = True
            inside ^= text.count('"') % 2 == 1
            yield text


def _delimiters_outside_quotes(text: str, delimiter: str, *, inside: bool) -> int:
    count = 0
    for index, part in enumerate(text.split('"')):
        if index:
            inside = not inside  # each `"` opens or closes (`""` does both)
        if not inside:
            count += part.count(delimiter)
    return count


def too_many_cells(line: int) -> InvalidDataError:
    if line == 1:
        return InvalidDataError(
            f"{PARSING_FAILED}the header has more than {MAX_COLUMNS} columns "
            "(the most a product import file may have)"
        )
    return InvalidDataError(
        f"{PARSING_FAILED}line {line} has more than {MAX_CELLS_PER_LINE} cells "
        "(the most a line of a product import file may have)"
    )


def check_no_nul(line: int, cells: list[str], names: list[str]) -> None:
    """Fail naming the line and column of the first cell holding a NUL."""
    for position, cell in enumerate(cells):
        if NUL in cell:
            column = names[position] if position < len(names) else "__parsed_extra"
            if line == 1:
                column = f"header cell {position + 1}"
            raise InvalidDataError(
                f'{PARSING_FAILED}line {line}, column "{column}" holds a NUL '
                "character (U+0000), which a product import cannot store"
            )
