"""/admin/product-categories: create, list and get (Medusa v1, flag on)."""

from __future__ import annotations

import json
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from domain.errors import InvalidDataError, NotFoundError
from domain.users import User
from service.api_services.catalog import CatalogService
from service.http.catalog import bodies, parameters, shapes
from service.http.catalog.checks import Checks
from service.http.catalog.product_listing import record_page
from service.http.catalog.responses import (
    answers,
    encoded,
    page,
    paged,
    query_params,
    raw_json,
)
from service.http.medusa_body import MedusaBody, MedusaBodyDTO, field_names

FIELDS = field_names(bodies.CreateProductCategoryRequest)
RELATIONS = ("parent_category", "category_children")
LIST_PARAMETERS = (
    "q", "handle", "is_active", "is_internal", "parent_category_id",
    "include_descendants_tree", "expand", "fields", "order", "limit", "offset",
)  # fmt: skip
Doc = dict[str, Any]


# A request without a JSON body decodes as `{}` (MedusaBody.empty).
EMPTY_CATEGORY = MedusaBody.empty(bodies.CreateProductCategoryRequest)


def validate_create(body: dict[str, Any]) -> dict[str, Any]:
    """AdminPostProductCategoriesReq; the string "null" is null, as Medusa transforms it."""
    checks = Checks(body, FIELDS)
    checks.string("name", required=True, not_empty=True)
    checks.string("handle")
    checks.string("description")
    checks.boolean("is_active")
    checks.boolean("is_internal")
    checks.string("parent_category_id")
    checks.obj("metadata")
    checks.raise_if_any()
    description = body.get("description", "")
    parent = body.get("parent_category_id")
    return {
        "name": body["name"], "handle": body.get("handle"),
        "description": None if description == "null" else description,
        "is_active": bool(body.get("is_active") or False),
        "is_internal": bool(body.get("is_internal") or False),
        "parent_category_id": None if parent in (None, "null") else parent,
        "metadata": body.get("metadata"),
    }  # fmt: skip


def _relations(expand: Any) -> tuple[str, ...]:
    if expand is None:
        return RELATIONS
    requested = tuple(r for r in str(expand).split(",") if r)
    invalid = [r for r in requested if r not in RELATIONS]
    if invalid:
        raise InvalidDataError(f"Requested fields [{', '.join(invalid)}] are not valid")
    return requested


def _tree(
    categories: list[Doc], category: Doc, relations: tuple[str, ...], depth: int
) -> Doc:
    """The category with its relations; `depth` levels of children carry their own."""
    document = dict(category)
    if "category_children" in relations:
        children = [c for c in categories if c["parent_category_id"] == category["id"]]
        document["category_children"] = [
            _tree(categories, c, ("category_children",), depth - 1) if depth > 0 else c
            for c in sorted(children, key=lambda c: (c["rank"], c["handle"]))
        ]
    if "parent_category" in relations:
        parent = category["parent_category_id"]
        document["parent_category"] = next(
            (c for c in categories if c["id"] == parent), None
        )
    return document


class ProductCategoryController(Controller):
    path = "/admin/product-categories"
    tags = ["Product Categories"]

    @post(sync_to_thread=True, status_code=200, operation_id="PostProductCategories",
          dto=MedusaBodyDTO, operation_class=parameters.listed(("expand",)),
          responses=answers(shapes.ProductCategoryResponse, 400, 401, 404, 422))  # fmt: skip
    def create_category(
        self, *,
        data: JSONBody[MedusaBody[bodies.CreateProductCategoryRequest]] = EMPTY_CATEGORY,
        request: Request[Any, Any, Any], catalog: NamedDependency[CatalogService],
        caller: NamedDependency[User],
    ) -> Response[bytes]:  # fmt: skip
        """Create a category; its rank is the count of its siblings (of all, for a root)."""
        body = data.decode(validate_create)
        relations = _relations(query_params(request).get("expand"))
        catalog.catch_up()
        parent = body["parent_category_id"]
        records = catalog.view.list_records("category")
        siblings = [r for r in records if r.state["parent_category_id"] == parent]
        rank = len(siblings) if parent is not None else len(records)
        category, position = catalog.commands.create_category(body, rank, caller.id)
        catalog.settle(position)
        categories = _all(catalog)
        found = next(c for c in categories if c["id"] == category.id)
        return _envelope(_tree(categories, found, relations, 0))

    @get(sync_to_thread=True, operation_id="GetProductCategories",
         operation_class=parameters.listed(LIST_PARAMETERS),
         responses=answers(shapes.ProductCategoryListResponse, 400, 401))  # fmt: skip
    def list_categories(
        self, request: Request[Any, Any, Any], catalog: NamedDependency[CatalogService],
        caller: NamedDependency[User],
    ) -> Response[bytes]:  # fmt: skip
        """List categories by rank and handle; `include_descendants_tree` nests children."""
        params = query_params(request)
        limit, offset = record_page(params, LIST_PARAMETERS, 100)
        relations = _relations(params.get("expand"))
        catalog.catch_up()
        categories = _all(catalog)
        matching = sorted(
            (c for c in categories if _matches(c, params)),
            key=lambda c: (c["rank"], c["handle"]),
        )
        depth = 100 if params.get("include_descendants_tree") == "true" else 0
        documents = [
            encoded(_tree(categories, c, relations, depth))
            for c in paged(matching, offset, limit)
        ]
        body = page("product_categories", documents, len(matching), offset, limit)
        # Medusa lists `count` first here: reorder the envelope's keys.
        decoded = json.loads(body.content)
        return raw_json(encoded({"count": decoded.pop("count"), **decoded}))

    @get("/{category_id:str}", sync_to_thread=True,
         operation_id="GetProductCategoriesCategory",
         responses=answers(shapes.ProductCategoryResponse, 401, 404))  # fmt: skip
    def get_category(
        self, category_id: FromPath[str], catalog: NamedDependency[CatalogService],
        caller: NamedDependency[User],
    ) -> Response[bytes]:  # fmt: skip
        """One category with its parent and children (each with `category_children`)."""
        catalog.catch_up()
        categories = _all(catalog)
        found = next((c for c in categories if c["id"] == category_id), None)
        if found is None:
            raise NotFoundError(f"ProductCategory with id: {category_id} was not found")
        document = _tree(categories, found, RELATIONS, 0)
        document["category_children"] = [
            {**child, "category_children": []}
            for child in document["category_children"]
        ]
        return _envelope(document)


def _all(catalog: CatalogService) -> list[Doc]:
    return [json.loads(r.document) for r in catalog.view.list_records("category")]


def _envelope(document: Doc) -> Response[bytes]:
    return raw_json(encoded({"product_category": document}))


def _matches(category: Doc, params: dict[str, Any]) -> bool:
    q = str(params.get("q") or "").lower()
    checks = [
        q in category["name"].lower() or q in category["handle"].lower(),
        params.get("handle") in (None, category["handle"]),
    ]
    checks.extend(
        str(category[key]).lower() == str(params[key]).lower()
        for key in ("is_active", "is_internal")
        if key in params
    )
    if "parent_category_id" in params:
        parent = params["parent_category_id"]
        checks.append(
            category["parent_category_id"] == (None if parent == "null" else parent)
        )
    return all(checks)
