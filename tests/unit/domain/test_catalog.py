"""Catalog domain: handles, prices, variants, and events that rebuild the same state."""

from __future__ import annotations

import pytest

from domain.catalog.base import public_state
from domain.catalog.prices import merged_prices, new_prices
from domain.catalog.products import CatalogContext, Product
from domain.catalog.text import kebab_case, value_id
from domain.errors import InvalidDataError, NotFoundError
from projections.catalog.state import Entity, fold

CONTEXT = CatalogContext("sp_default", "sp_gift", "sc_default", {"reg_eu": "eur"})


@pytest.mark.parametrize(
    ("title", "handle"),
    [
        ("Basic Shirt", "basic-shirt"),
        ("Ünïcode Shirt & Co. v2", "unicode-shirt-co-v-2"),
        ("Summer Sale 2024!", "summer-sale-2024"),
        ("Men's Shirts", "mens-shirts"),
        ("T-Shirt (XL)", "t-shirt-xl"),
        ("iPhone 15 Pro", "i-phone-15-pro"),
        ("HTTPServer", "http-server"),
        ("Café Crème", "cafe-creme"),
        ("ÆØÅ", "ae-oa"),
        ("100% Cotton", "100-cotton"),
        ("日本語", "日本語"),
    ],
)
def test_handles_are_lodash_kebab_case(title: str, handle: str) -> None:
    assert kebab_case(title) == handle


def test_shared_values_get_stable_ids() -> None:
    assert value_id("ptag", "new") == value_id("ptag", "new") != value_id("ptag", "old")
    assert value_id("ptag", "new").startswith("ptag_")


def test_prices_merge_by_currency_or_region_and_drop_the_rest() -> None:
    existing = new_prices(
        [{"currency_code": "USD", "amount": 1}, {"region_id": "reg_eu", "amount": 2},
         {"currency_code": "usd", "amount": 3, "min_quantity": 10}],
        {"reg_eu": "eur"},
    )  # fmt: skip

    merged = merged_prices(existing, [{"currency_code": "usd", "amount": 9}], {})

    assert [(p["id"], p["amount"]) for p in merged] == [(existing[0]["id"], 9)]


def test_a_region_price_needs_a_known_region() -> None:
    with pytest.raises(InvalidDataError, match="Region with reg_x was not found"):
        new_prices([{"region_id": "reg_x", "amount": 1}], {})


def shirt() -> Product:
    return Product.create(
        {"title": "Shirt", "options": [{"title": "Size"}],
         "variants": [{"title": "S", "sku": "S", "options": [{"value": "S"}],
                       "prices": [{"currency_code": "usd", "amount": 100}]}]},
        CONTEXT, "usr_1",
    )  # fmt: skip


def test_a_variant_with_the_options_of_an_existing_one_is_refused() -> None:
    product = shirt()
    size = product.options[0]["id"]

    with pytest.raises(InvalidDataError, match="with provided options already exists"):
        product.add_variant(
            {"title": "Again", "options": [{"option_id": size, "value": "S"}]},
            CONTEXT,
            "u",
        )


def test_a_deleted_product_cannot_change_and_holds_no_unique_keys() -> None:
    product = shirt()
    assert product.unique_keys() == {"product-handle:shirt", "variant-sku:S"}

    product.delete("usr_1")

    assert product.unique_keys() == set()
    with pytest.raises(NotFoundError):
        product.update({"title": "x"}, CONTEXT, "usr_1")


def test_the_read_model_folds_events_into_the_aggregates_own_state() -> None:
    product = shirt()
    size = product.options[0]["id"]
    variant_id = product.variants[0]["id"]
    product.update({"title": "New", "tags": [{"value": "t"}], "variants": [
        {"id": variant_id, "prices": [{"currency_code": "eur", "amount": 5}]},
        {"title": "M", "options": [{"option_id": size, "value": "M"}], "prices": []},
    ]}, CONTEXT, "usr_1")  # fmt: skip
    events = [e for e in product.collect_events() if isinstance(e, Product.Event)]

    entities: dict[str, Entity] = {}
    fold(entities, events)
    fold(entities, events)  # folding again changes nothing

    assert entities[product.id].state == {"id": product.id, **public_state(product)}
    assert entities[product.id].version == product.version
