"""List query validation: Medusa's messages, filters, ordering, fields."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from domain.errors import InvalidDataError
from service.http import qs
from service.http.list_params import (
    DEFAULT_FIELDS,
    ListRequest,
    parse_date,
    validate_list_query,
)


def validate(query: str) -> ListRequest:
    return validate_list_query(qs.parse(query), "usr_1")


def message(query: str) -> str:
    with pytest.raises(InvalidDataError) as refusal:
        validate(query)
    return refusal.value.message


def test_defaults() -> None:
    listing = validate("")

    assert (listing.limit, listing.offset) == (10, 0)
    assert (listing.query.order_by, listing.query.descending) == ("created_at", True)
    assert listing.query.created_by == "usr_1"
    assert listing.fields == DEFAULT_FIELDS
    assert not listing.expand_user


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=completed", "property status should not exist"),
        ("deleted_at=null", "property deleted_at should not exist"),
        ("limit=abc", "limit must be a number conforming to the specified constraints"),
        ("offset=x", "offset must be a number conforming to the specified constraints"),
        ("limit=-1", "limit must not be less than 0"),
        ("id=batch_1", "id must be an array"),
        ("type=product-export", "type must be an array"),
        ("order[]=a&order[]=b", "order must be a string"),
        ("fields[a]=1", "fields must be a string"),
        ("completed_at=yesterday", "completed_at must be a Date instance"),
        ("completed_at[gte]=soon", "gte must be a Date instance"),
        ("completed_at[after]=1", "property after should not exist"),
        (
            "foo=1&status=x&limit=abc&type=a",
            (
                "property foo should not exist, property status should not exist, "
                "type must be an array, "
                "limit must be a number conforming to the specified constraints"
            ),
        ),
        ("order=color", "Order field color is not valid"),
        ("order=-color", "Order field color is not valid"),
        ("fields=id,color", "Requested fields [color] are not valid"),
        ("expand=created_by_user,items", "Requested fields [items] are not valid"),
    ],
)
def test_bad_parameters_get_medusas_messages(query: str, expected: str) -> None:
    assert message(query) == expected


def test_created_at_is_checked_by_istype_which_reports_json() -> None:
    assert json.loads(message("created_at[gte]=soon")) == {
        "message": "created_at must be one of: DateComparisonOperator",
        "details": {"DateComparisonOperator": ["gte must be a Date instance"]},
    }
    assert json.loads(message("created_at=2024-01-01"))["details"] == {
        "DateComparisonOperator": [
            "an unknown value was passed to the validate function"
        ]
    }


def test_filters_are_built() -> None:
    listing = validate(
        "type[]=a,b&id[]=x&completed_at=null&created_at[gte]=1700000000"
        "&canceled_at[lt]=2024-01-02T03:04:05Z&limit=5&offset=10&order=type"
    )

    query = listing.query
    assert query.types == ("a", "b")
    assert query.ids == ("x",)
    assert [(f.column, f.operator, f.value) for f in query.time_filters] == [
        ("completed_at", "is_null", None),
        ("canceled_at", "lt", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("created_at", "gte", datetime.fromtimestamp(1700000000, UTC)),
    ]
    assert (query.limit, query.offset, query.order_by, query.descending) == (
        5,
        10,
        "type",
        False,
    )


def test_limit_zero_means_no_limit_like_typeorm() -> None:
    listing = validate("limit=0")

    assert listing.limit == 0
    assert listing.query.limit is None


@pytest.mark.parametrize(
    ("fields", "selected"),
    [
        ("id", ("id", "created_at", "dry_run")),
        ("status,type", None),
        ("type,context", ("type", "context", "created_at", "id", "dry_run")),
        ("-dry_run", DEFAULT_FIELDS),  # as Medusa: the entity default stays
        (
            "-context,-result",
            tuple(f for f in DEFAULT_FIELDS if f not in {"context", "result"}),
        ),
        ("%2Bdry_run", DEFAULT_FIELDS),
    ],
)
def test_fields_select_like_prepare_list_query(
    fields: str, selected: tuple[str, ...] | None
) -> None:
    if selected is None:
        assert message(f"fields={fields}") == "Requested fields [status] are not valid"
    else:
        assert validate(f"fields={fields}").fields == selected


@pytest.mark.parametrize(
    ("value", "moment"),
    [
        ("1700000000", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("2024-01-02", datetime(2024, 1, 2, tzinfo=UTC)),
        ("2024-01-02T03:04:05.678Z", datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)),
        ("not a date", None),
        ("", None),
    ],
)
def test_dates_are_iso_or_unix_seconds(value: str, moment: datetime | None) -> None:
    assert parse_date(value) == moment
