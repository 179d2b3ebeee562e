"""/admin/collections: create, list and get (Medusa v1)."""

from __future__ import annotations

import json
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from domain.errors import NotFoundError
from domain.users import User
from projections.catalog.query import ProductFilter
from service.api_services.catalog import CatalogService
from service.http.catalog import bodies, parameters, shapes
from service.http.catalog.checks import Checks
from service.http.catalog.product_listing import record_page
from service.http.catalog.responses import (
    answers,
    encoded,
    envelope,
    page,
    paged,
    query_params,
)
from service.http.catalog.shaping import ALL_COLUMNS
from service.http.medusa_body import MedusaBody, MedusaBodyDTO, field_names

LIST_PARAMETERS = (
    "limit", "offset", "title", "handle", "q", "discount_condition_id", "created_at",
    "updated_at", "deleted_at", "order",
)  # fmt: skip
LIST_COLUMNS = ("id", "created_at", "updated_at", "title", "handle")


# A request without a JSON body decodes as `{}` (MedusaBody.empty).
EMPTY_CREATE_COLLECTION = MedusaBody.empty(bodies.CreateCollectionRequest)


def validate_create(body: dict[str, Any]) -> dict[str, Any]:
    """AdminPostCollectionsReq."""
    checks = Checks(body, field_names(bodies.CreateCollectionRequest))
    checks.string("title", required=True, not_empty=True)
    checks.string("handle")
    checks.obj("metadata")
    checks.raise_if_any()
    return {"title": body["title"], "handle": body.get("handle"),
            "metadata": body.get("metadata")}  # fmt: skip


def with_products(
    catalog: CatalogService, collection: dict[str, Any]
) -> dict[str, Any]:
    """The collection's `products`: columns and shipping profiles (products.profiles)."""
    documents, _ = catalog.view.list_products(
        ProductFilter(collection_ids=(collection["id"],)), limit=None
    )
    keep = {*ALL_COLUMNS, "profiles", "profile", "profile_id"}
    products = [
        {k: v for k, v in json.loads(d).items() if k in keep} for d in documents
    ]
    return {**collection, "products": products}


class CollectionController(Controller):
    path = "/admin/collections"
    tags = ["Collections"]

    @post(sync_to_thread=True, status_code=200, operation_id="PostCollections",
          dto=MedusaBodyDTO,
          responses=answers(shapes.CollectionResponse, 400, 401, 422))  # fmt: skip
    def create_collection(
        self, *,
        data: JSONBody[MedusaBody[bodies.CreateCollectionRequest]] = EMPTY_CREATE_COLLECTION,
        catalog: NamedDependency[CatalogService], caller: NamedDependency[User],
    ) -> Response[bytes]:  # fmt: skip
        """Create a collection; the handle defaults to the kebab-cased title."""
        body = data.decode(validate_create)
        collection, position = catalog.commands.create_collection(body, caller.id)
        catalog.settle(position)
        return _found(catalog, collection.id)

    @get(sync_to_thread=True, operation_id="GetCollections",
         operation_class=parameters.listed(LIST_PARAMETERS),
         responses=answers(shapes.CollectionListResponse, 400, 401))  # fmt: skip
    def list_collections(
        self, request: Request[Any, Any, Any], catalog: NamedDependency[CatalogService],
        caller: NamedDependency[User],
    ) -> Response[bytes]:  # fmt: skip
        """List collections, newest first; `title`, `handle` exact, `q` on both."""
        params = query_params(request)
        limit, offset = record_page(params, LIST_PARAMETERS, 10)
        catalog.catch_up()
        records = [
            json.loads(r.document)
            for r in catalog.view.list_records("collection")
            if _matches(r.state, params)
        ]
        documents = [
            encoded(with_products(catalog, {k: c[k] for k in LIST_COLUMNS}))
            for c in paged(records, offset, limit)
        ]
        return page("collections", documents, len(records), offset, limit)

    @get("/{collection_id:str}", sync_to_thread=True, operation_id="GetCollectionsCollection",
         responses=answers(shapes.CollectionResponse, 401, 404))  # fmt: skip
    def get_collection(
        self, collection_id: FromPath[str], catalog: NamedDependency[CatalogService],
        caller: NamedDependency[User],
    ) -> Response[bytes]:  # fmt: skip
        """One collection with its products."""
        catalog.catch_up()
        return _found(catalog, collection_id)


def _matches(state: dict[str, Any], params: dict[str, Any]) -> bool:
    if "title" in params and state["title"] != params["title"]:
        return False
    if "handle" in params and state["handle"] != params["handle"]:
        return False
    if "discount_condition_id" in params:
        return False  # no discounts exist in Jobstream
    q = str(params.get("q") or "").lower()
    return q in state["title"].lower() or q in state["handle"].lower()


def _found(catalog: CatalogService, collection_id: str) -> Response[bytes]:
    record = catalog.view.get_record("collection", collection_id)
    if record is None:
        raise NotFoundError(
            f"Product collection with id: {collection_id} was not found"
        )
    document = with_products(catalog, json.loads(record.document))
    return envelope("collection", encoded(document))
