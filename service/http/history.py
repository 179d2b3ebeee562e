"""Event histories (Jobstream's extension): every change to a job or a product."""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from domain.batch_jobs import BatchJob
from domain.catalog.products import Product
from domain.errors import BatchJobNotFoundError, NotFoundError, NotJobOwnerError
from domain.users import User
from service.api_services.history import HistoryService
from service.audit import history
from service.http import openapi


class EventHistoryResponse(msgspec.Struct, frozen=True):
    events: list[history.HistoryEvent]


class HistoryController(Controller):
    path = "/admin"
    tags = ["Event history"]
    security = openapi.LOGGED_IN

    @get(
        "/batch-jobs/{job_id:str}/events",
        sync_to_thread=True,
        operation_id="GetBatchJobsBatchJobEvents",
        responses=openapi.errors(400, 401, 404),
    )
    def batch_job_events(
        self,
        job_id: FromPath[str],
        histories: NamedDependency[HistoryService],
        caller: NamedDependency[User],
    ) -> EventHistoryResponse:
        """Every event of one of the caller's batch jobs, oldest first.

        Each event has its version, name, time, actor (a user id, a worker, or
        `batch:<job id>`) and payload (the fields the event records).
        """
        events = histories.events_of(job_id)
        if not events or not isinstance(events[0], BatchJob.Created):
            raise BatchJobNotFoundError(job_id)
        if events[0].created_by != caller.id:
            raise NotJobOwnerError
        return EventHistoryResponse([history.describe(event) for event in events])

    @get(
        "/products/{product_id:str}/events",
        sync_to_thread=True,
        operation_id="GetProductsProductEvents",
        responses=openapi.errors(400, 401, 404),
    )
    def product_events(
        self,
        product_id: FromPath[str],
        histories: NamedDependency[HistoryService],
        caller: NamedDependency[User],
    ) -> EventHistoryResponse:
        """Every event of a product (deleted ones too), oldest first.

        An event caused by a batch job (an import) names it in `batch_job_id`.
        """
        try:
            found = histories.timeline(product_id, Product.Created)
        except history.UnknownAggregateError:
            raise NotFoundError(
                f"Product with id: {product_id} was not found"
            ) from None
        return EventHistoryResponse(found)
