"""The catalog's admin endpoints, and the error body they add."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import MediaType, Request, Response, Router
from litestar.types import ExceptionHandlersMap

from domain.errors import SalesChannelsNotFoundError
from service.http import openapi
from service.http.catalog.categories import ProductCategoryController
from service.http.catalog.collections import CollectionController
from service.http.catalog.products import ProductController
from service.http.catalog.regions import RegionController
from service.http.catalog.responses import ensure_catalog
from service.http.catalog.sales_channels import SalesChannelController
from service.http.catalog.shipping_profiles import ShippingProfileController

# One router, so every catalog request first makes sure the store's defaults exist.
CONTROLLERS = [
    Router(
        path="/",
        route_handlers=[
            ProductController,
            RegionController,
            CollectionController,
            SalesChannelController,
            ProductCategoryController,
            ShippingProfileController,
        ],
        before_request=ensure_catalog,
        security=openapi.LOGGED_IN,
    )
]


def missing_sales_channels(
    _: Request[Any, Any, Any], exc: SalesChannelsNotFoundError
) -> Response[bytes]:
    """Medusa's await-middleware body: `errors` and `message`, no `type`."""
    body = {"errors": exc.errors, "message": exc.message}
    return Response(
        msgspec.json.encode(body), status_code=400, media_type=MediaType.JSON
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    SalesChannelsNotFoundError: missing_sales_channels,
}
