"""projections.json_text: msgspec where it can, the stdlib where it cannot, one text."""

from __future__ import annotations

import json
import math

import pytest

from projections import json_text

VALUES = [
    {"dry_run": True, "list_config": {"skip": 0, "take": 50}, "q": "é\u2028"},
    {"big": 123456789012345678901234567890, "neg": -1.5e300, "none": None},
    [1, "two", [3.0], {"4": False}],
    None,
]


@pytest.mark.parametrize("value", VALUES)
def test_a_value_comes_back_as_it_went(value: object) -> None:
    assert json_text.loads(json_text.dumps(value)) == value


@pytest.mark.parametrize("value", VALUES)
def test_text_the_stdlib_wrote_reads_the_same(value: object) -> None:
    assert json_text.loads(json.dumps(value)) == value
    assert json.loads(json_text.dumps(value)) == value


def test_the_text_is_compact() -> None:
    assert json_text.dumps({"a": [1, 2], "b": None}) == '{"a":[1,2],"b":null}'


def test_a_lone_surrogate_is_written_and_read_back_by_the_fallback() -> None:
    text = json_text.dumps({"name": "\ud800"})
    assert text == '{"name":"\\ud800"}'
    assert json_text.loads(text) == {"name": "\ud800"}


def test_a_nan_an_older_version_stored_still_reads() -> None:
    value = json_text.loads('{"x": NaN}')
    assert math.isnan(value["x"])


def test_text_that_is_not_json_is_refused() -> None:
    with pytest.raises(json.JSONDecodeError):
        json_text.loads("{not json")
