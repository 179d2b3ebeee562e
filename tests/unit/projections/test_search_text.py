"""What the catalog's `q` searches, for product states the event store accepted."""

from __future__ import annotations

from projections.catalog.sql import _search_text


def test_a_product_state_without_a_title_still_gets_its_search_text() -> None:
    # The API refuses a null title; an event stored another way must still project.
    state = {
        "title": None,
        "description": "Soft Cotton",
        "variants": [{"title": "S", "sku": "TEE-S"}],
    }
    assert _search_text(state, {"title": "Summer"}) == "\nsoft cotton\ns\ntee-s\nsummer"
