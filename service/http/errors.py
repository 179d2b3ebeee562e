"""Exceptions to Medusa's error bodies and status codes (its error-handler middleware)."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import structlog
from eventsourcing.persistence import IntegrityError, OperationalError
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

from domain.errors import DomainError
from service import disk_full
from service.http.schemas import ErrorResponse
from service.ports import ReadModelLagError
from service.retry import is_transient

log = structlog.get_logger("http")

CONFLICT_MESSAGE = (
    "The request conflicted with another request. "
    "You may retry the request with the provided Idempotency-Key."
)
_STATUS_BY_TYPE = {
    "invalid_data": 400,
    "not_allowed": 400,
    "not_found": 404,
    "duplicate_error": 422,
    "unauthorized": 401,
    "unexpected_state": 500,  # Medusa's status for it (e.g. the file storage full)
}


class Unauthenticated(Exception):  # noqa: N818 - an HTTP condition, not a fault
    """No session, bearer token or API token identified an admin user."""


def _json(status: int, body: ErrorResponse) -> Response[bytes]:
    return Response(
        content=msgspec.json.encode(body), status_code=status, media_type=MediaType.JSON
    )


def domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[bytes]:
    status = _STATUS_BY_TYPE.get(exc.type, 400)
    code = "invalid_request_error" if exc.type == "duplicate_error" else msgspec.UNSET
    return _json(status, ErrorResponse(type=exc.type, message=exc.message, code=code))


def conflict(_: Request[Any, Any, Any], __: IntegrityError) -> Response[bytes]:
    return _json(
        409,
        ErrorResponse(
            type="conflict", message=CONFLICT_MESSAGE, code="invalid_state_error"
        ),
    )


def unauthenticated(_: Request[Any, Any, Any], __: Unauthenticated) -> Response[str]:
    # passport ends the response with the plain text "Unauthorized", no JSON.
    return Response(content="Unauthorized", status_code=401, media_type=MediaType.TEXT)


def read_model_lag(
    _: Request[Any, Any, Any], exc: ReadModelLagError
) -> Response[bytes]:
    log.warning("http.read_model_lag", position=exc.args[0])
    message = "The read model is catching up with recent writes. Retry the request."
    return _json(503, ErrorResponse(type="unexpected_state", message=message))


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    if isinstance(exc, NotFoundException | MethodNotAllowedException):
        # Express answers any unrouted method and path with 404 "Cannot <METHOD> <path>".
        # The router raised this before any middleware ran: give it a request id here.
        request_id = request.headers.get("x-request-id", "")[:128] or uuid.uuid4().hex
        message = f"Cannot {request.method} {request.url.path}"
        log.info(
            "http.request", method=request.method, path=request.url.path, status=404,
            request_id=request_id,
        )  # fmt: skip
        response = _json(404, ErrorResponse(type="not_found", message=message))
        response.headers["x-request-id"] = request_id
        return response
    if isinstance(exc, ValidationException):
        return _json(400, ErrorResponse(type="invalid_data", message=str(exc.detail)))
    if exc.status_code >= HTTP_500_INTERNAL_SERVER_ERROR:
        return unknown_error(request, exc)
    return _json(
        exc.status_code, ErrorResponse(type="invalid_data", message=str(exc.detail))
    )


UNREACHABLE_MESSAGE = (
    "A service Jobstream depends on (the database or the file storage) is "
    "unreachable. Retry the request."
)


def unreachable(exc: Exception) -> Response[bytes]:
    """503, not 500: an outage of the database or broker, which the caller may retry."""
    log.warning("http.dependency_unreachable", error=repr(exc))
    return _json(
        503, ErrorResponse(type="unexpected_state", message=UNREACHABLE_MESSAGE)
    )


def unknown_error(_: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    if is_transient(exc):
        return unreachable(exc)
    log.error("http.unhandled_error", error=repr(exc), exc_info=exc)
    return _json(
        HTTP_500_INTERNAL_SERVER_ERROR,
        ErrorResponse(
            type="unknown_error",
            message="An unknown error occurred.",
            code="unknown_error",
        ),
    )


def store_error(
    request: Request[Any, Any, Any], exc: OperationalError
) -> Response[bytes]:
    """A store out of disk space says so (Medusa's unexpected_state, 500)."""
    if not disk_full.is_disk_full(exc):
        return unknown_error(request, exc)
    log.error("store.disk_full", error=str(exc))
    return _json(500, ErrorResponse(type="unexpected_state", message=disk_full.MESSAGE))


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: domain_error,
    IntegrityError: conflict,
    OperationalError: store_error,
    Unauthenticated: unauthenticated,
    ReadModelLagError: read_model_lag,
    HTTPException: http_error,
    Exception: unknown_error,
}
