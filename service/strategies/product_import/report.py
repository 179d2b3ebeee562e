"""A rejected import's report: `result.errors` lines and the error report CSV.

The report repeats each bad row with its errors in a last column. Problems of the
header go in one row of one cell (no padding: a wide header costs once, not once per
column), and the file stops growing at `MAX_REPORT_BYTES`; its last line then says
how many bad rows it leaves out.
"""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

from domain.errors import InvalidDataError
from domain.product_csv.import_limits import MAX_REPORT_BYTES
from domain.product_csv.problems import first_of

if TYPE_CHECKING:
    from domain.product_csv.import_rows import ImportHeader
    from domain.product_csv.problems import Problem
    from service.files.storage import FileStorage, FileWriter

MAX_LISTED = 100  # rows listed in `result.errors`; the report file has them all


def error_report_key(job_id: str) -> str:
    return f"imports/products/errors/{job_id}-errors.csv"


class ImportRejectedError(InvalidDataError):
    """Medusa's message for the first problem; `further_errors` name every bad row."""

    def __init__(self, message: str, further_errors: list[str]) -> None:
        super().__init__(message)
        self.further_errors = further_errors


def located(problem: Problem) -> str:
    return f'Line {problem.line}, column "{problem.column}": {problem.detail}'


def describe(problems: list[Problem]) -> str:
    text = located(problems[0])
    if len(problems) > 1:
        text += f" (and {len(problems) - 1} more in this row)"
    return text


class ProblemReport:
    """Collects problems as rows stream by; writes the report file as it goes.

    `first` is the problem Medusa would report: the earliest stage, then the
    earliest line (rows come in line order, so only an earlier stage replaces it).
    """

    def __init__(self, files: FileStorage, job_id: str, header: ImportHeader) -> None:
        self._files = files
        self.key = error_report_key(job_id)
        self._header = header
        self._writer: FileWriter | None = None
        self._csv: _SizedCsv | None = None
        self.first: Problem | None = None
        self.entries: list[str] = []
        self.bad_lines = 0
        self.left_out = 0  # bad rows the report had no room for

    @property
    def clean(self) -> bool:
        return self.first is None

    def add_header(self, problems: list[Problem]) -> None:
        """The header's problems: one entry each, one row of the report."""
        if not problems:
            return
        self._note_first(problems)
        for problem in problems:
            self.bad_lines += 1
            if len(self.entries) < MAX_LISTED:
                self.entries.append(located(problem))
        self._write(["; ".join(located(p) for p in problems)])

    def add(self, problems: list[Problem], cells: list[str]) -> None:
        if not problems:
            return
        self._note_first(problems)
        self.bad_lines += 1
        if len(self.entries) < MAX_LISTED:
            self.entries.append(describe(problems))
        self._write([*cells, "; ".join(located(p) for p in problems)])

    def _note_first(self, problems: list[Problem]) -> None:
        candidate = first_of(problems)
        if self.first is None or candidate.stage < self.first.stage:
            self.first = candidate

    def _write(self, row: list[str]) -> None:
        writer = self._open()
        # The row's size, near enough (quotes aside): checked before it is written.
        size = sum(len(cell.encode()) + 1 for cell in row) + 1
        if self.left_out or writer.size + size > MAX_REPORT_BYTES:
            self.left_out += 1
            return
        writer.writerow(row)

    def _open(self) -> _SizedCsv:
        if self._csv is None:
            self._writer = self._files.open_writer(self.key)
            self._csv = _SizedCsv(self._writer, self._header)
        return self._csv

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.abort()

    def rejection(self) -> ImportRejectedError:
        """Commit the report file; the error that fails the job."""
        further = list(self.entries)
        if self.left_out:
            note = (
                f"The error report stops here: it reached its limit of "
                f"{MAX_REPORT_BYTES} bytes; {self.left_out} more bad rows are not in it"
            )
            self._open().writerow([note])
        if self._writer is not None:
            self._writer.commit()
        if self.bad_lines > len(self.entries):
            listed = "the first of them" if self.left_out else "them all"
            further.append(
                f"… and {self.bad_lines - len(self.entries)} more bad rows "
                f"(the error report {self.key} lists {listed})"
            )
        if self.left_out:
            further.append(
                f"The error report {self.key} reached its limit of {MAX_REPORT_BYTES} "
                f"bytes: {self.left_out} bad rows are not in it"
            )
        return ImportRejectedError(self.first.medusa if self.first else "", further)


class _SizedCsv:
    """A CSV writer on the report file that knows the file's size so far."""

    def __init__(self, writer: FileWriter, header: ImportHeader) -> None:
        self._writer = writer
        self._csv = csv.writer(
            writer, delimiter=header.delimiter, lineterminator="\r\n"
        )
        self._csv.writerow([*header.names, "Error"])

    @property
    def size(self) -> int:
        return self._writer.size

    def writerow(self, row: list[str]) -> None:
        self._csv.writerow(row)
