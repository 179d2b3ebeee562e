"""What is wrong with an import file: problems, where they are, and Medusa's messages.

Medusa stops at the first error it meets, and it meets them in a fixed order: the
parse of the whole file (header, then each row), then the price regions of each row
(pre-processing), then processing: every product create, every product update,
every variant create, every variant update. Jobstream reports every problem, and
ranks them by that order (`Stage`, then line), so the job's first error is the one
Medusa would give.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class Stage(IntEnum):
    """Where Medusa would meet a problem; lower first."""

    PARSE = 0
    PREPARE = 1  # region prices, in pre-processing
    PRODUCT_CREATE = 2
    PRODUCT_UPDATE = 3
    VARIANT_CREATE = 4
    VARIANT_UPDATE = 5


@dataclass(frozen=True)
class Problem:
    """Why a row (or the header, line 1) cannot be imported.

    `medusa` is Medusa's message for it (the job's first error when it comes first);
    `detail` says the same in a line of the report. `part` ("product" or "variant")
    marks a cell problem whose stage the row's operations decide (the planner sets it).
    """

    line: int
    column: str
    detail: str
    medusa: str
    stage: Stage = Stage.PARSE
    part: str = ""


def first_of(problems: list[Problem]) -> Problem:
    """The problem Medusa would meet first (the earliest stage; the first listed)."""
    return min(problems, key=lambda problem: problem.stage)


def row_reference(product: dict[str, Any], variant: dict[str, Any]) -> dict[str, str]:
    """The values Medusa's row error names; `undefined` for a column not in the file."""

    def text(source: dict[str, Any], key: str) -> str:
        if key not in source:
            return "undefined"
        value = source[key]
        return "null" if value is None else str(value)

    return {
        "product_id": text(product, "id"),
        "handle": text(product, "handle"),
        "variant_id": text(variant, "id"),
        "sku": text(variant, "sku"),
    }


def row_error(reference: dict[str, str], message: str) -> str:
    """Medusa's `Error while processing row with …` message, spacing included."""
    return (
        "Error while processing row with\n"
        f"      [(product id: {reference['product_id']}),\n"
        f"      (product handle: {reference['handle']}),\n"
        f"      (variant id: {reference['variant_id']}),\n"
        f"      (variant sku: {reference['sku']})]: \n"
        f"      {message}"
    )


PARSING_FAILED = "The csv file parsing failed due to: "
