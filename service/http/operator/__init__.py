"""The operator API under /admin/jobstream (docs/operator-api.md): one controller each."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from service.http.operator.cancel import BulkCancelController
from service.http.operator.feed import FeedController
from service.http.operator.files import JobFilesController
from service.http.operator.jobs import OperatorJobsController
from service.http.operator.retry import RetryController

CONTROLLERS: list[ControllerRouterHandler] = [
    OperatorJobsController,
    BulkCancelController,
    JobFilesController,
    RetryController,
    FeedController,
]
