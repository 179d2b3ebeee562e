"""/admin/products: create, list, get, update and delete (Medusa v1)."""

from __future__ import annotations

import json
from typing import Any

import structlog
from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from domain.errors import InvalidDataError, NotFoundError
from domain.users import User
from service.api_services.catalog import CatalogService
from service.http.catalog import bodies, parameters, shapes, shaping
from service.http.catalog.product_bodies import validate_create, validate_update
from service.http.catalog.product_listing import ARRAYS, PARAMETERS, parse_product_list
from service.http.catalog.responses import (
    answers,
    encoded,
    envelope,
    page,
    query_params,
    raw_json,
    written_product,
)
from service.http.medusa_body import MedusaBody, MedusaBodyDTO

log = structlog.get_logger("http")


# A request without a JSON body decodes as `{}` (MedusaBody.empty).
EMPTY_CREATE_PRODUCT = MedusaBody.empty(bodies.CreateProductRequest)
EMPTY_UPDATE_PRODUCT = MedusaBody.empty(bodies.UpdateProductRequest)


def _descendants(catalog: CatalogService, roots: tuple[str, ...]) -> tuple[str, ...]:
    """The categories and every category under them (include_category_children)."""
    parents = {
        r.id: r.state.get("parent_category_id")
        for r in catalog.view.list_records("category")
    }
    found = set(roots)
    grew = True
    while grew:
        more = {child for child, parent in parents.items() if parent in found}
        grew = not more <= found
        found |= more
    return tuple(sorted(found))


class ProductController(Controller):
    path = "/admin/products"
    tags = ["Products"]

    @post(
        sync_to_thread=True, status_code=200, operation_id="PostProducts",
        dto=MedusaBodyDTO,
        responses=answers(shapes.ProductResponse, 400, 401, 404, 422),
    )  # fmt: skip
    def create_product(
        self, *,
        data: JSONBody[MedusaBody[bodies.CreateProductRequest]] = EMPTY_CREATE_PRODUCT,
        catalog: NamedDependency[CatalogService], caller: NamedDependency[User],
    ) -> Response[bytes]:  # fmt: skip
        """Create a product with its options, variants and prices (200, as Medusa).

        Each variant's option values follow the product's `options` in order; a
        price names exactly one of `region_id` and `currency_code`.
        """
        body = data.decode(validate_create)
        changes = catalog.commands.changes(caller.id)
        product = catalog.commands.create_product(changes, body)
        position = changes.save()
        log.info("product.created", product_id=product.id)
        return written_product(catalog, product.id, position)

    @get(
        sync_to_thread=True, operation_id="GetProducts",
        operation_class=parameters.listed(PARAMETERS, (*ARRAYS, "status")),
        responses=answers(shapes.ProductListResponse, 400, 401, 503),
    )  # fmt: skip
    def list_products(
        self, request: Request[Any, Any, Any], catalog: NamedDependency[CatalogService],
        caller: NamedDependency[User],
    ) -> Response[bytes]:  # fmt: skip
        """List products, newest first, with Medusa's filters, `fields` and `expand`."""
        listing = parse_product_list(query_params(request))
        catalog.catch_up()
        query = listing.query
        if listing.include_category_children and query.category_ids:
            categories = _descendants(catalog, query.category_ids)
            query = type(query)(**{**vars(query), "category_ids": categories})
        documents, count = catalog.view.list_products(
            query, order_by=listing.order_by, descending=listing.descending,
            limit=listing.limit or None, offset=listing.offset,
        )  # fmt: skip
        if listing.shaped:
            documents = [
                encoded(
                    shaping.shape(json.loads(d), listing.columns, listing.relations)
                )
                for d in documents
            ]
        return page("products", documents, count, listing.offset, listing.limit)

    @get(
        "/{product_id:str}", sync_to_thread=True, operation_id="GetProductsProduct",
        operation_class=parameters.listed(("fields", "expand")),
        responses=answers(shapes.ProductResponse, 400, 401, 404, 503),
    )  # fmt: skip
    def get_product(
        self, product_id: FromPath[str], request: Request[Any, Any, Any],
        catalog: NamedDependency[CatalogService], caller: NamedDependency[User],
    ) -> Response[bytes]:  # fmt: skip
        """One product; `fields` and `expand` as on the list (no `created_at` added)."""
        params = query_params(request)
        unknown = [k for k in params if k not in {"expand", "fields"}]
        if unknown:
            raise InvalidDataError(
                ", ".join(f"property {k} should not exist" for k in unknown)
            )
        columns = shaping.parse_fields(params.get("fields"), listing=False)
        relations = shaping.parse_expand(params.get("expand"))
        catalog.catch_up()
        document = catalog.view.get_product(product_id)
        if document is None:
            raise NotFoundError(f"Product with id: {product_id} was not found")
        if params:
            document = encoded(shaping.shape(json.loads(document), columns, relations))
        return envelope("product", document)

    @post(
        "/{product_id:str}", sync_to_thread=True, status_code=200,
        operation_id="PostProductsProduct", dto=MedusaBodyDTO,
        responses=answers(shapes.ProductResponse, 400, 401, 404, 422),
    )  # fmt: skip
    def update_product(
        self, product_id: FromPath[str], *,
        data: JSONBody[MedusaBody[bodies.UpdateProductRequest]] = EMPTY_UPDATE_PRODUCT,
        catalog: NamedDependency[CatalogService], caller: NamedDependency[User],
    ) -> Response[bytes]:  # fmt: skip
        """Update a product; listed variants replace its variants.

        A variant with an `id` is updated (its prices kept unless `prices` is given),
        one without is added, and the product's variants not listed are removed.
        """
        body = data.decode(validate_update)
        changes = catalog.commands.changes(caller.id)
        catalog.commands.update_product(changes, product_id, body)
        return written_product(catalog, product_id, changes.save())

    @delete(
        "/{product_id:str}", sync_to_thread=True, status_code=200,
        operation_id="DeleteProductsProduct",
        responses=answers(shapes.DeletedResponse, 401),
    )  # fmt: skip
    def delete_product(
        self, product_id: FromPath[str], catalog: NamedDependency[CatalogService],
        caller: NamedDependency[User],
    ) -> Response[bytes]:  # fmt: skip
        """Soft-delete a product; an unknown id is also answered 200, as Medusa does."""
        position = catalog.commands.delete_product(product_id, caller.id)
        catalog.settle(position)
        return raw_json(
            encoded({"id": product_id, "object": "product", "deleted": True})
        )
