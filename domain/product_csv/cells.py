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
    r"""Quoted (with `"` doubled) if it holds `\n`, `\r`, `,`, `;` or `"`; else as is.

    Medusa quotes only on `\n`, `,` and `;`: a bare `\r` then ends the row in a
    spreadsheet (a title could inject a row), and a cell starting with `"` reads as
    a quoted one. So Jobstream quotes on those too.
    """
    if "\n" in text or "," in text or ";" in text or '"' in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


# A text cell starting with one of these is a formula in a spreadsheet (OWASP's
# "CSV injection" list). The export writes such a cell behind a `'`; so that every
# text survives the round trip, it also guards a text that already starts with
# `'`s before one of them (`'=x` is written `''=x`), and the import removes one `'`
# from exactly the cells that start with `'`s before one of them.
FORMULA_FIRST = frozenset("=+-@\t\r")
GUARD = "'"


def _guarded_form(text: str) -> bool:
    """True for `'`* then a formula character: the texts the guard applies to."""
    rest = text.lstrip(GUARD)
    return rest != "" and rest[0] in FORMULA_FIRST


def guarded(text: str) -> str:
    """A text cell as the export writes it: `'` before a formula-leading text."""
    if text and (text[0] in FORMULA_FIRST or text[0] == GUARD) and _guarded_form(text):
        return GUARD + text
    return text


def unguarded(text: str) -> str:
    """A text cell as the import reads it: the export's `'` guard removed."""
    if text and text[0] == GUARD and _guarded_form(text):
        return text[1:]
    return text


def text_cell(value: Any) -> str:
    """A cell of a text field: guarded; numbers and booleans as JavaScript writes them."""
    if isinstance(value, str):
        return guarded(value)
    return js_text(value)


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
