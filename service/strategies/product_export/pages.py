"""The products an export covers, a page at a time, from the catalog read model."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from service.strategies.product_export.documents import Product, decode_product

if TYPE_CHECKING:
    from collections.abc import Iterator

    from projections.catalog.view import CatalogView
    from service.strategies.product_export.list_config import ExportSelection

# Orders a keyset on ids can follow: ids are ULIDs, in creation order.
_KEYSET_ORDERS = frozenset({"created_at", "id"})


class ShapePrice(msgspec.Struct):
    currency_code: str | None = None
    region_id: str | None = None


class ShapeVariant(msgspec.Struct):
    prices: list[ShapePrice] = []


class ShapeProduct(msgspec.Struct):
    """What pre-processing needs of a product: msgspec skips the rest unread."""

    options: list[msgspec.Raw] = []
    images: list[msgspec.Raw] = []
    sales_channels: list[msgspec.Raw] = []
    categories: list[msgspec.Raw] = []
    variants: list[ShapeVariant] = []


_decode_shape = msgspec.json.Decoder(ShapeProduct).decode


def product_count(view: CatalogView, selection: ExportSelection) -> int:
    """Medusa's productCount: `batch_size`, else every product the filter matches."""
    if selection.batch_size is not None:
        return selection.batch_size
    return view.count_products(selection.query)


def product_pages(
    view: CatalogView, selection: ExportSelection, count: int
) -> Iterator[list[Product]]:
    """Pages of `page_size` products from `skip` on, until `count` (as Medusa pages).

    Medusa stops at offset `count`, its offset starting at `skip`: `count - skip`
    products at most. One page is in memory at a time.
    """
    for page in _document_pages(view, selection, count):
        yield [decode_product(document) for document in page]


def shape_pages(
    view: CatalogView, selection: ExportSelection, count: int
) -> Iterator[list[ShapeProduct]]:
    """The same products as `product_pages`, decoded only as far as the shape needs."""
    for page in _document_pages(view, selection, count):
        yield [_decode_shape(document) for document in page]


def _document_pages(
    view: CatalogView, selection: ExportSelection, count: int
) -> Iterator[list[str]]:
    wanted = count - selection.skip
    if wanted <= 0:
        return
    if selection.order_by in _KEYSET_ORDERS:
        pages = _keyset_pages(view, selection)
    else:
        pages = _offset_pages(view, selection)
    for page in pages:
        documents = page[:wanted]
        if not documents:
            return
        yield documents
        wanted -= len(documents)
        if wanted <= 0:
            return


def _keyset_pages(view: CatalogView, selection: ExportSelection) -> Iterator[list[str]]:
    after: str | None = None
    to_skip = selection.skip
    while True:
        size = to_skip or selection.page_size
        page = view.page_products(
            selection.query, after=after, limit=size, descending=selection.descending
        )
        if to_skip:
            to_skip = 0  # the skipped page only moves the key
        elif page.documents:
            yield page.documents
        if page.last_id is None:
            return
        after = page.last_id


def _offset_pages(view: CatalogView, selection: ExportSelection) -> Iterator[list[str]]:
    offset = selection.skip
    while True:
        documents, _ = view.list_products(
            selection.query,
            order_by=selection.order_by,
            descending=selection.descending,
            limit=selection.page_size,
            offset=offset,
        )
        if not documents:
            return
        yield documents
        offset += len(documents)
