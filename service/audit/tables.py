"""Plain-text tables and a progress line for the audit commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from projections.rebuild import Progress

CELL = 60  # longer cells are cut, with an ellipsis
BAR = 30


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= CELL else text[: CELL - 1] + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [
        max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(headers)
    ]
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]
    return "\n".join(lines) + "\n"


def progress_line(progress: Progress) -> str:
    share = progress.position / progress.head if progress.head else 1.0
    filled = round(share * BAR)
    return (
        f"\r{progress.name:<10} [{'#' * filled}{'.' * (BAR - filled)}] "
        f"{share:6.1%} {progress.position:,}/{progress.head:,}  "
        f"{progress.events:,} events  {progress.rate:,.0f} events/s"
    )
