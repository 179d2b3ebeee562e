"""JSON answers spliced from stored documents, and the query string as Medusa parses it."""

from __future__ import annotations

from typing import Any, TypeVar

import anyio.to_thread
import msgspec
from litestar import MediaType, Request, Response
from litestar.openapi import ResponseSpec

from service.api_services.catalog import CatalogService
from service.http import openapi, qs
from service.http.dependencies import provide_catalog
from service.http.schemas import ErrorResponse
from service.read_model_lag import ReadModelLagError

T = TypeVar("T")


async def ensure_catalog(request: Request[Any, Any, Any]) -> None:
    """Before every catalog request: the store's defaults exist and are projected.

    The defaults are the default sales channel and the two shipping profiles.
    """
    catalog = provide_catalog(request.app.state)
    if not catalog.commands.has_store:
        await anyio.to_thread.run_sync(_make_store, catalog)


def _make_store(catalog: CatalogService) -> None:
    position = catalog.commands.ensure_store()
    if position:
        catalog.settle(position)


def query_params(request: Request[Any, Any, Any]) -> dict[str, Any]:
    raw = bytes(request.scope.get("query_string", b"")).decode("utf-8", "replace")
    return qs.parse(raw)


def raw_json(body: str) -> Response[bytes]:
    return Response(body.encode(), media_type=MediaType.JSON, status_code=200)


def encoded(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def envelope(key: str, document: str) -> Response[bytes]:
    """`{"<key>": <document>}`, with the document's stored bytes."""
    return raw_json(f'{{"{key}":{document}}}')


def page(
    key: str, documents: list[str], count: int, offset: int, limit: int
) -> Response[bytes]:
    """Medusa's list envelope, spliced from stored documents."""
    joined = ",".join(documents)
    return raw_json(
        f'{{"{key}":[{joined}],"count":{count},"offset":{offset},"limit":{limit}}}'
    )


def written_product(
    catalog: CatalogService, product_id: str, position: int
) -> Response[bytes]:
    """After a write: wait for the read model, then answer with the stored document."""
    catalog.settle(position)
    document = catalog.view.get_product(product_id)
    if document is None:
        raise ReadModelLagError(position)
    return envelope("product", document)


_DUPLICATE = ResponseSpec(
    ErrorResponse,
    description="`duplicate_error` (`code: invalid_request_error`): a handle, SKU or "
    "country is taken",
    generate_examples=False,
)


def documented_errors(*codes: int) -> dict[int, ResponseSpec]:
    """The documented error responses of a catalog handler (422 included)."""
    listed = openapi.errors(*(code for code in codes if code != 422))  # noqa: PLR2004
    return {**listed, 422: _DUPLICATE} if 422 in codes else listed  # noqa: PLR2004


def answers(shape: type[msgspec.Struct], *codes: int) -> dict[int, ResponseSpec]:
    """A handler's 200 (the stored documents it splices, as `shape`) and its errors.

    The handlers return bytes, so Litestar cannot see the shape by itself.
    """
    success = ResponseSpec(
        shape, description="Request fulfilled", generate_examples=False
    )
    return {200: success, **documented_errors(*codes)}


def paged(records: list[T], offset: int, limit: int) -> list[T]:
    """One page of an in-memory list; `limit` 0 means all (TypeORM's take: 0)."""
    return records[offset : offset + limit] if limit else records[offset:]
