"""StagedChanges: an import-sized change set, staged on disk, committed all or nothing.

Run on both backends with a tiny cache (`keep`), so every test reads aggregates
back from the store plus the staged events, as a large import does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.catalog import claims
from domain.catalog.products import Product
from domain.errors import DomainError
from service.catalog.commands import Catalog
from service.catalog.staged import StagedChanges
from service.http.catalog.product_bodies import validate_create

if TYPE_CHECKING:
    from service.application import Jobstream

ACTOR = "batch:batch_test"


def body(handle: str, *skus: str) -> dict[str, Any]:
    return validate_create({
        "title": handle.title(), "handle": handle, "options": [{"title": "Size"}],
        "variants": [
            {"title": sku, "sku": sku, "options": [{"value": sku}],
             "prices": [{"currency_code": "usd", "amount": 100}]}
            for sku in skus
        ],
    })  # fmt: skip


def owner_of(app: Jobstream, namespace: str, value: str) -> str | None:
    claim: Any = app.repository.get(claims.claim_key(namespace, value))
    return claim.owner  # type: ignore[no-any-return]


def stored(app: Jobstream, entity_id: str) -> bool:
    try:
        app.repository.get(entity_id)
    except AggregateNotFoundError:
        return False
    return True


def test_chunks_are_invisible_until_one_commit_writes_them_all(app: Jobstream) -> None:
    catalog = Catalog(app)
    catalog.ensure_store()
    staged = StagedChanges(app, ACTOR, keep=2)
    ids = []
    for chunk in range(3):
        for n in range(10):
            product = catalog.create_product(
                staged, body(f"p-{chunk}-{n}", f"sku-{chunk}-{n}")
            )
            ids.append(product.id)
        staged.flush()
    # An early product, long forgotten by the cache, changes in a later chunk.
    first = catalog.get_product(staged, ids[0])
    catalog.update_product(staged, ids[0], {"title": "Renamed"})
    variant_id = first.variants[0]["id"]
    first.update_variant(
        variant_id, {"sku": "sku-new"}, catalog.context(staged, {}), ACTOR
    )
    before = app.recorder.max_notification_id() or 0

    assert not any(stored(app, product_id) for product_id in ids)
    position = staged.save()
    staged.close()

    assert position == app.recorder.max_notification_id()
    # 30 products, 30 handle and 30 SKU claims, an update, a variant update, a new
    # claim and a released one.
    assert position - before == 94 == staged.staged_events
    renamed: Any = app.repository.get(ids[0])
    assert (renamed.title, renamed.version) == ("Renamed", 3)
    assert renamed.variants[0]["sku"] == "sku-new"
    assert owner_of(app, claims.VARIANT_SKU, "sku-new") == ids[0]
    assert owner_of(app, claims.VARIANT_SKU, "sku-0-0") is None
    assert owner_of(app, claims.PRODUCT_HANDLE, "p-2-9") == ids[-1]
    assert all(isinstance(app.repository.get(i), Product) for i in ids)


def test_a_sku_can_move_to_another_product_in_the_same_change_set(
    app: Jobstream,
) -> None:
    catalog = Catalog(app)
    setup = catalog.changes(ACTOR)
    one = catalog.create_product(setup, body("one", "sku-a"))
    two = catalog.create_product(setup, body("two", "sku-b"))
    setup.save()
    staged = StagedChanges(app, ACTOR, keep=0)
    context = catalog.context(staged, {})
    # Two frees sku-a; one takes it. The release is settled before the claim.
    one_again = catalog.get_product(staged, one.id)
    two_again = catalog.get_product(staged, two.id)
    one_again.update_variant(one.variants[0]["id"], {"sku": "sku-c"}, context, ACTOR)
    two_again.update_variant(two.variants[0]["id"], {"sku": "sku-a"}, context, ACTOR)
    staged.save()
    staged.close()

    assert owner_of(app, claims.VARIANT_SKU, "sku-a") == two.id
    assert owner_of(app, claims.VARIANT_SKU, "sku-b") is None
    assert owner_of(app, claims.VARIANT_SKU, "sku-c") == one.id


def test_a_sku_taken_in_an_earlier_chunk_is_refused_and_nothing_is_written(
    app: Jobstream,
) -> None:
    catalog = Catalog(app)
    catalog.ensure_store()
    before = app.recorder.max_notification_id()
    staged = StagedChanges(app, ACTOR, keep=0)
    first = catalog.create_product(staged, body("first", "sku-dup"))
    staged.flush()  # its claim is staged and forgotten
    catalog.create_product(staged, body("second", "sku-dup"))

    with pytest.raises(DomainError, match="duplicate key value"):
        staged.flush()
    staged.close()

    assert app.recorder.max_notification_id() == before
    assert not stored(app, first.id)


def test_a_concurrent_change_to_a_staged_product_fails_the_whole_commit(
    app: Jobstream,
) -> None:
    catalog = Catalog(app)
    setup = catalog.changes("usr_1")
    product = catalog.create_product(setup, body("shared", "sku-shared"))
    setup.save()
    staged = StagedChanges(app, ACTOR, keep=0)
    catalog.update_product(staged, product.id, {"title": "From the import"})
    created = [
        catalog.create_product(staged, body(f"new-{n}", f"sku-new-{n}")).id
        for n in range(5)
    ]
    staged.flush()
    meanwhile = catalog.changes("usr_1")
    catalog.update_product(meanwhile, product.id, {"title": "From a user"})
    meanwhile.save()

    with pytest.raises(IntegrityError):
        staged.save()
    staged.close()

    assert not any(stored(app, product_id) for product_id in created)
    latest: Any = app.repository.get(product.id)
    assert (latest.title, latest.version) == ("From a user", 2)
