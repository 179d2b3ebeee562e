"""/admin/sales-channels: create, list and get (Medusa v1)."""

from __future__ import annotations

import json
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from domain.errors import NotFoundError
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

LIST_PARAMETERS = (
    "id", "q", "name", "description", "created_at", "updated_at", "deleted_at",
    "order", "expand", "fields", "limit", "offset",
)  # fmt: skip
# The create response is the saved entity, not re-read: keys in insertion order.
CREATED_ORDER = (
    "name", "description", "id", "deleted_at", "metadata", "created_at", "updated_at",
    "is_disabled",
)  # fmt: skip


# A request without a JSON body decodes as `{}` (MedusaBody.empty).
EMPTY_CREATE_SALES_CHANNEL = MedusaBody.empty(bodies.CreateSalesChannelRequest)


def validate_create(body: dict[str, Any]) -> dict[str, Any]:
    """AdminPostSalesChannelsReq (no metadata)."""
    checks = Checks(body, field_names(bodies.CreateSalesChannelRequest))
    checks.string("name", required=True)
    checks.string("description")
    checks.boolean("is_disabled")
    checks.raise_if_any()
    return {"name": body["name"], "description": body.get("description"),
            "is_disabled": bool(body.get("is_disabled") or False)}  # fmt: skip


def shape(document: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    if params.get("fields") is not None:
        wanted = {"id", "created_at", *str(params["fields"]).split(",")}
        document = {k: v for k, v in document.items() if k in wanted}
    if "locations" in str(params.get("expand") or "").split(","):
        document["locations"] = []
    return document


class SalesChannelController(Controller):
    path = "/admin/sales-channels"
    tags = ["Sales Channels"]

    @post(sync_to_thread=True, status_code=200, operation_id="PostSalesChannels",
          dto=MedusaBodyDTO,
          responses=answers(shapes.SalesChannelResponse, 400, 401))  # fmt: skip
    def create_sales_channel(
        self, *,
        data: JSONBody[MedusaBody[bodies.CreateSalesChannelRequest]] = EMPTY_CREATE_SALES_CHANNEL,
        catalog: NamedDependency[CatalogService], caller: NamedDependency[User],
    ) -> Response[bytes]:  # fmt: skip
        """Create a sales channel (enabled unless `is_disabled`)."""
        body = data.decode(validate_create)
        channel, position = catalog.commands.create_sales_channel(body, caller.id)
        catalog.settle(position)
        document = json.loads(_found(catalog, channel.id))
        return envelope(
            "sales_channel", encoded({k: document[k] for k in CREATED_ORDER})
        )

    @get(sync_to_thread=True, operation_id="GetSalesChannels",
         operation_class=parameters.listed(LIST_PARAMETERS),
         responses=answers(shapes.SalesChannelListResponse, 400, 401))  # fmt: skip
    def list_sales_channels(
        self, request: Request[Any, Any, Any], catalog: NamedDependency[CatalogService],
        caller: NamedDependency[User],
    ) -> Response[bytes]:  # fmt: skip
        """List sales channels, newest first; `q` searches name and description."""
        params = query_params(request)
        limit, offset = record_page(params, LIST_PARAMETERS, 20)
        catalog.catch_up()
        records = [
            r for r in catalog.view.list_records("sales_channel")
            if _matches({"id": r.id, **r.state}, params)
        ]  # fmt: skip
        documents = [
            encoded(shape(json.loads(r.document), params))
            for r in paged(records, offset, limit)
        ]
        return page("sales_channels", documents, len(records), offset, limit)

    @get("/{channel_id:str}", sync_to_thread=True, operation_id="GetSalesChannelsSalesChannel",
         responses=answers(shapes.SalesChannelResponse, 401, 404))  # fmt: skip
    def get_sales_channel(
        self, channel_id: FromPath[str], catalog: NamedDependency[CatalogService],
        caller: NamedDependency[User],
    ) -> Response[bytes]:  # fmt: skip
        """One sales channel."""
        catalog.catch_up()
        return envelope("sales_channel", _found(catalog, channel_id))


def _matches(state: dict[str, Any], params: dict[str, Any]) -> bool:
    for key in ("id", "name", "description"):
        if key in params and state.get(key) != params[key]:
            return False
    q = str(params.get("q") or "").lower()
    text = f"{state['name']}\n{state.get('description') or ''}".lower()
    return q in text


def _found(catalog: CatalogService, channel_id: str) -> str:
    record = catalog.view.get_record("sales_channel", channel_id)
    if record is None:
        raise NotFoundError(f"Sales channel with id: {channel_id} was not found")
    return record.document
