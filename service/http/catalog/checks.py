"""class-validator's checks and messages, for the catalog's request bodies.

Messages come out as Medusa's validator joins them: unknown properties first, then
each field in the DTO's declaration order. Optional fields skip their checks when the
value is missing or null (`@IsOptional`). Nested errors carry no parent path.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from domain.errors import InvalidDataError

MISSING = object()
NUMBER = "must be a number conforming to the specified constraints"


def is_number(value: Any) -> bool:
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return numeric and math.isfinite(value)


def is_integer(value: Any) -> bool:
    return is_number(value) and float(value).is_integer()


class Checks:
    """Collects a body's errors; `raise_if_any()` ends validation with one 400."""

    def __init__(self, body: dict[str, Any], allowed: tuple[str, ...]) -> None:
        self.body = body
        self.errors = [
            f"property {k} should not exist" for k in body if k not in allowed
        ]

    def _value(self, key: str, *, required: bool) -> Any:
        """The value to check, or MISSING when an optional field is absent or null."""
        value = self.body.get(key, MISSING)
        if not required and value is None:
            return MISSING
        return None if value is MISSING and required else value

    def string(
        self, key: str, *, required: bool = False, not_empty: bool = False
    ) -> None:
        value = self._value(key, required=required)
        if value is MISSING:
            return
        if not_empty and value in (None, ""):
            self.errors.append(f"{key} should not be empty")
        if not isinstance(value, str):
            self.errors.append(f"{key} must be a string")

    def boolean(self, key: str, *, required: bool = False) -> None:
        value = self._value(key, required=required)
        if value is not MISSING and not isinstance(value, bool):
            self.errors.append(f"{key} must be a boolean value")

    def number(self, key: str, *, required: bool = False) -> None:
        value = self._value(key, required=required)
        if value is not MISSING and not is_number(value):
            self.errors.append(f"{key} {NUMBER}")

    def integer(self, key: str, *, required: bool = False) -> None:
        value = self._value(key, required=required)
        if value is not MISSING and not is_integer(value):
            self.errors.append(f"{key} must be an integer number")

    def obj(self, key: str) -> None:
        value = self._value(key, required=False)
        if value is not MISSING and not isinstance(value, dict):
            self.errors.append(f"{key} must be an object")

    def one_of(
        self, key: str, values: tuple[str, ...], *, not_null: bool = False
    ) -> None:
        if not_null and key in self.body and self.body[key] is None:
            self.errors.append(f"{key} should not be equal to null")
            self.errors.append(
                f"{key} must be one of the following values: {', '.join(values)}"
            )
            return
        value = self._value(key, required=False)
        if value is not MISSING and value not in values:
            self.errors.append(
                f"{key} must be one of the following values: {', '.join(values)}"
            )

    def strings(self, key: str, *, required: bool = False) -> None:
        value = self._value(key, required=required)
        if value is MISSING:
            return
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.errors.append(f"each value in {key} must be a string")
        if not isinstance(value, list):
            self.errors.append(f"{key} must be an array")

    def nested(
        self,
        key: str,
        check: Callable[[dict[str, Any]], list[str]],
        *,
        required: bool = False,
        many: bool = True,
    ) -> None:
        """A nested DTO (`many`: an array of them), checked by `check(item)`."""
        value = self._value(key, required=required)
        if value is MISSING:
            return
        if many and not isinstance(value, list):
            self.errors.append(f"{key} must be an array")
            return
        items = value if many else [value]
        if any(not isinstance(item, dict) for item in items):
            self.errors.append(
                f"each value in nested property {key} must be either object or array"
                if many
                else f"nested property {key} must be either object or array"
            )
            return
        for item in items:
            self.errors.extend(check(item))

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidDataError(", ".join(self.errors))


def nested_errors(
    item: dict[str, Any], allowed: tuple[str, ...], rules: Callable[[Checks], None]
) -> list[str]:
    checks = Checks(item, allowed)
    rules(checks)
    return checks.errors
