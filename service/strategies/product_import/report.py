"""A rejected import's report: `result.errors` lines and the error report CSV."""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

from domain.errors import InvalidDataError

if TYPE_CHECKING:
    from domain.product_csv.import_rows import ImportHeader, Problem
    from service.files.storage import FileStorage, FileWriter

MAX_LISTED = 100  # rows listed in `result.errors`; the report file has them all


def error_report_key(job_id: str) -> str:
    return f"imports/products/errors/{job_id}-errors.csv"


class ImportRejectedError(InvalidDataError):
    """Medusa's message for the first problem; `further_errors` name every bad row."""

    def __init__(self, message: str, further_errors: list[str]) -> None:
        super().__init__(message)
        self.further_errors = further_errors


def describe(problems: list[Problem]) -> str:
    first = problems[0]
    text = f'Line {first.line}, column "{first.column}": {first.detail}'
    if len(problems) > 1:
        text += f" (and {len(problems) - 1} more in this row)"
    return text


class ProblemReport:
    """Collects problems as rows stream by; writes the report file as it goes."""

    def __init__(self, files: FileStorage, job_id: str, header: ImportHeader) -> None:
        self._files = files
        self.key = error_report_key(job_id)
        self._header = header
        self._writer: FileWriter | None = None
        self._csv: csv.Writer | None = None  # type: ignore[name-defined,unused-ignore]
        self.first: str | None = None
        self.entries: list[str] = []
        self.bad_lines = 0

    @property
    def clean(self) -> bool:
        return self.first is None

    def add(self, problems: list[Problem], cells: list[str] | None = None) -> None:
        if not problems:
            return
        if self.first is None:
            self.first = problems[0].medusa
        self.bad_lines += 1
        if len(self.entries) < MAX_LISTED:
            self.entries.append(describe(problems))
        row = cells if cells is not None else [""] * len(self._header.names)
        errors = "; ".join(
            f'Line {p.line}, column "{p.column}": {p.detail}' for p in problems
        )
        self._open().writerow([*row, errors])

    def _open(self) -> csv.Writer:  # type: ignore[name-defined,unused-ignore]
        if self._csv is None:
            self._writer = self._files.open_writer(self.key)
            self._csv = csv.writer(
                self._writer, delimiter=self._header.delimiter, lineterminator="\r\n"
            )
            self._csv.writerow([*self._header.names, "Error"])
        return self._csv

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.abort()

    def rejection(self) -> ImportRejectedError:
        """Commit the report file; the error that fails the job."""
        if self._writer is not None:
            self._writer.commit()
        further = list(self.entries)
        if self.bad_lines > len(self.entries):
            further.append(
                f"… and {self.bad_lines - len(self.entries)} more bad rows "
                f"(the error report {self.key} lists them all)"
            )
        return ImportRejectedError(self.first or "", further)
