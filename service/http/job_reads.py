"""The two batch-job reads, GET by id and the list: shared by the handler and the hot lane.

Both answer with Litestar's ASGIResponse over the stored JSON, so the hot lane
(hot_reads) and the controller (batch_jobs) send the same bytes from the same code.
Each read is a fetch from the view and a render of what it found; the renders
(`document_response`, `documents_response`) also serve the lane's awaited fetches
on PostgreSQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import MediaType
from litestar.response.base import ASGIResponse
from litestar.serialization import encode_json

from domain.errors import BatchJobNotFoundError, NotJobOwnerError
from projections.batch_jobs.document import ALL_FIELDS
from service.http import qs
from service.http.list_params import ListRequest, validate_list_query
from service.http.rendering import render_batch_job
from service.http.schemas import BatchJobListResponse

if TYPE_CHECKING:
    from litestar.types import Scope

    from domain.users import User
    from service.api_services.batch_jobs import BatchJobsService

EVERY_FIELD = frozenset(ALL_FIELDS)


def list_request(scope: Scope, caller: User) -> ListRequest:
    """The list's query, validated (InvalidDataError with Medusa's messages)."""
    query = bytes(scope.get("query_string", b"")).decode("utf-8", "replace")
    return validate_list_query(qs.parse(query), caller.id)


def job_document(jobs: BatchJobsService, job_id: str, caller: User) -> ASGIResponse:
    """`{"batch_job": …}` from the stored JSON; 404 if none, NotJobOwner if not the caller's."""
    return document_response(jobs.get_document(job_id), job_id, caller)


def document_response(
    found: tuple[str | None, str] | None, job_id: str, caller: User
) -> ASGIResponse:
    """job_document's answer to what the view found (read sync or awaited)."""
    if found is None:
        raise BatchJobNotFoundError(job_id)
    created_by, document = found
    if created_by != caller.id:
        raise NotJobOwnerError
    body = f'{{"batch_job":{document}}}'.encode()
    return ASGIResponse(body=body, media_type=MediaType.JSON)


def job_list(
    jobs: BatchJobsService, listing: ListRequest, caller: User
) -> ASGIResponse:
    """One page of the caller's jobs, with the count of all that match."""
    if lists_documents(listing):
        documents, count = jobs.list_documents(listing.query)
        return documents_response(documents, count, listing)
    rows, count = jobs.list_batch_jobs(listing.query)
    owner = caller if listing.expand_user else None
    body = BatchJobListResponse(
        batch_jobs=[render_batch_job(row, listing.fields, owner) for row in rows],
        count=count,
        offset=listing.offset,
        limit=listing.limit,
    )
    return ASGIResponse(body=encode_json(body), media_type=MediaType.JSON)


def lists_documents(listing: ListRequest) -> bool:
    """The list is of whole stored documents: what the admin UI polls."""
    return set(listing.fields) == EVERY_FIELD and not listing.expand_user


def documents_response(
    documents: list[str], count: int, listing: ListRequest
) -> ASGIResponse:
    """The list response, spliced from stored documents (same bytes as rendering)."""
    page = ",".join(documents)
    body = (
        f'{{"batch_jobs":[{page}],"count":{count},'
        f'"offset":{listing.offset},"limit":{listing.limit}}}'
    )
    return ASGIResponse(body=body.encode(), media_type=MediaType.JSON)
