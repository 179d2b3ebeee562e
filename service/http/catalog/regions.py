"""/admin/regions: create, list and get (Medusa v1)."""

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
    envelope,
    page,
    paged,
    query_params,
)
from service.http.medusa_body import MedusaBody, MedusaBodyDTO, field_names

FIELDS = field_names(bodies.CreateRegionRequest)
COLUMNS = (
    "id", "created_at", "updated_at", "deleted_at", "name", "currency_code", "tax_rate",
    "tax_code", "gift_cards_taxable", "automatic_taxes", "tax_provider_id", "metadata",
)  # fmt: skip
RELATIONS = ("countries", "currency", "fulfillment_providers", "payment_providers")
LIST_PARAMETERS = (
    "q", "created_at", "updated_at", "deleted_at", "order", "expand", "fields", "limit",
    "offset",
)  # fmt: skip


# A request without a JSON body decodes as `{}` (MedusaBody.empty).
EMPTY_CREATE_REGION = MedusaBody.empty(bodies.CreateRegionRequest)


def validate_create(body: dict[str, Any]) -> dict[str, Any]:
    """AdminPostRegionsReq (without the tax-inclusive flag's `includes_tax`)."""
    checks = Checks({k: v for k, v in body.items() if k != "includes_tax"}, FIELDS)
    if "includes_tax" in body:
        checks.errors.insert(0, "includes_tax should not exist")
    checks.string("name", required=True)
    checks.string("currency_code", required=True)
    checks.string("tax_code")
    checks.number("tax_rate", required=True)
    for key in ("payment_providers", "fulfillment_providers", "countries"):
        checks.strings(key, required=True)
    checks.obj("metadata")
    checks.raise_if_any()
    return {
        "tax_code": None, "metadata": None,
        **{key: body[key] for key in FIELDS if key in body},
    }  # fmt: skip


def shape(
    document: dict[str, Any], params: dict[str, Any], *, listing: bool
) -> dict[str, Any]:
    """`fields` and `expand` (relations allow-listed, as in Medusa)."""
    columns: tuple[str, ...] = COLUMNS
    if params.get("fields") is not None:
        extra = ["id", "created_at"] if listing else ["id"]
        columns = tuple(dict.fromkeys([*extra, *str(params["fields"]).split(",")]))
    relations: tuple[str, ...] = RELATIONS
    if params.get("expand") is not None:
        relations = tuple(r for r in str(params["expand"]).split(",") if r)
        invalid = [r for r in relations if r not in RELATIONS]
        if invalid:
            raise InvalidDataError(
                f"Requested fields [{', '.join(invalid)}] are not valid"
            )
    return {k: v for k, v in document.items() if k in columns or k in relations}


class RegionController(Controller):
    path = "/admin/regions"
    tags = ["Regions"]

    @post(sync_to_thread=True, status_code=200, operation_id="PostRegions",
          dto=MedusaBodyDTO,
          responses=answers(shapes.RegionResponse, 400, 401, 422))  # fmt: skip
    def create_region(
        self, *,
        data: JSONBody[MedusaBody[bodies.CreateRegionRequest]] = EMPTY_CREATE_REGION,
        catalog: NamedDependency[CatalogService], caller: NamedDependency[User],
    ) -> Response[bytes]:  # fmt: skip
        """Create a region: currency, tax rate, providers and countries.

        A country belongs to one region at most (422 `duplicate_error` otherwise).
        """
        body = data.decode(validate_create)
        region, position = catalog.commands.create_region(body, caller.id)
        catalog.settle(position)
        return _found(catalog, region.id)

    @get(sync_to_thread=True, operation_id="GetRegions",
         operation_class=parameters.listed(LIST_PARAMETERS),
         responses=answers(shapes.RegionListResponse, 400, 401))  # fmt: skip
    def list_regions(
        self, request: Request[Any, Any, Any], catalog: NamedDependency[CatalogService],
        caller: NamedDependency[User],
    ) -> Response[bytes]:  # fmt: skip
        """List regions, newest first; `q` searches names."""
        params = query_params(request)
        limit, offset = record_page(params, LIST_PARAMETERS, 50)
        catalog.catch_up()
        q = str(params.get("q") or "").lower()
        records = [
            r for r in catalog.view.list_records("region")
            if q in r.state["name"].lower()
        ]  # fmt: skip
        documents = [
            encoded(shape(json.loads(r.document), params, listing=True))
            for r in records
        ]
        return page(
            "regions", paged(documents, offset, limit), len(records), offset, limit
        )

    @get("/{region_id:str}", sync_to_thread=True, operation_id="GetRegionsRegion",
         responses=answers(shapes.RegionResponse, 400, 401, 404))  # fmt: skip
    def get_region(
        self, region_id: FromPath[str], catalog: NamedDependency[CatalogService],
        caller: NamedDependency[User],
    ) -> Response[bytes]:  # fmt: skip
        """One region with its countries, currency and providers."""
        catalog.catch_up()
        return _found(catalog, region_id)


def _found(catalog: CatalogService, region_id: str) -> Response[bytes]:
    record = catalog.view.get_record("region", region_id)
    if record is None:
        raise NotFoundError(f"Region with {region_id} was not found")
    return envelope("region", record.document)
