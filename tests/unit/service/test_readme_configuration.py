"""The README's configuration reference names every setting, with its real default."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec

from service.settings import PREFIX, Settings

README = Path(__file__).parents[3] / "README.md"
DEFAULTS = {
    PREFIX + field.name.upper(): field.default
    for field in msgspec.structs.fields(Settings)
}
# Named by the operator contract and built beside this reference: each becomes a
# field of Settings, and then is checked like the rest.
CONTRACT = {"JOBSTREAM_METRICS_TOKEN"}


def documented() -> dict[str, str]:
    """`| \\`JOBSTREAM_X\\` | default | meaning |` rows of the README: name → default cell."""
    section = README.read_text().partition("\n## Configuration\n")[2]
    section = section.partition("\n## ")[0]
    rows = re.findall(
        r"^\| `(JOBSTREAM_[A-Z0-9_]+)` \| ([^|]+) \|", section, re.MULTILINE
    )
    assert len(rows) == len(dict(rows)), "a variable is listed twice"
    return {name: cell.strip() for name, cell in rows}


def shown(cell: str) -> str:
    """The default as the cell shows it: its first `code`, else its first word."""
    code = re.match(r"`([^`]*)`", cell)
    return code.group(1) if code else cell.split(maxsplit=1)[0]


def matches(default: Any, cell: str) -> bool:
    value = shown(cell)
    if default is None or default == "":
        return value in {"unset", "generated"}
    if isinstance(default, bool):
        return value == str(default).lower()
    if isinstance(default, int | float):
        return float(value) == default
    return bool(value == default)


def test_every_setting_is_documented_and_nothing_else() -> None:
    names = set(documented())

    assert set(DEFAULTS) - names == set()
    assert names - set(DEFAULTS) <= CONTRACT


def test_each_documented_default_is_the_settings_default() -> None:
    wrong = {
        name: (cell, DEFAULTS[name])
        for name, cell in documented().items()
        if name in DEFAULTS and not matches(DEFAULTS[name], cell)
    }

    assert wrong == {}


def test_a_wrong_default_would_be_caught() -> None:
    assert not matches(9000, "`9001`")
    assert not matches(None, "`./var`")
    assert not matches(False, "`true`")
    assert matches(30.0, "`30`")
    assert matches("", "unset")
