"""Cell text as Medusa's export writes it: JavaScript's toString, its quoting rule."""

from __future__ import annotations

from typing import Any

DELIMITER = ";"
NEWLINE = "\r\n"
# Currencies without minor units (medusa-core-utils' zeroDecimalCurrencies).
_ZERO_DECIMAL = "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf"
ZERO_DECIMAL_CURRENCIES = frozenset(_ZERO_DECIMAL.split(" "))


def js_text(value: Any) -> str:
    """`value?.toString() ?? ""`: null is empty, booleans lower case, 1.0 is "1"."""
    if type(value) is str:  # most cells: first, and exact (a str subclass goes on)
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def escape(text: str) -> str:
    """Quoted (with `"` doubled) only if it holds a newline, `,` or `;`; else as is."""
    # Medusa's csv-cell-content-formatter quotes only cells with one of these.
    if "\n" in text or "," in text or ";" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def humanize_amount(amount: int, currency_code: str) -> str:
    """Minor units as Medusa writes them: 110 EUR is "1.1", 100 JPY is "100".

    An amount of 0 (or none) is an empty cell, as `price?.amount ? … : ""` makes it.
    """
    if not amount:
        return ""
    divisor = 1 if currency_code.lower() in ZERO_DECIMAL_CURRENCIES else 100
    return js_text(amount / divisor)


def unquoted(value: Any) -> Any:
    """Medusa's csvRevertCellContentFormatter on a parsed cell.

    Before an import applies a product or variant field, a text value that starts
    with `"` loses its first and last characters (JavaScript's `substring(1, n-1)`,
    which leaves a lone `"` as it is). Other values pass unchanged.
    """
    if type(value) is str and value.startswith('"') and len(value) > 1:
        return value[1:-1]
    return value
