"""GET /admin/jobstream/jobs/{id}/files/{kind}: a job's export or error report, as bytes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Stream

from domain.errors import InvalidDataError, NotFoundError
from domain.users import User
from service.api_services.operator import OperatorService
from service.files.storage import FileReader
from service.http import openapi
from service.http.downloads import SAFE_HEADERS

# Where each kind's key is in the job's result (service/strategies: the export's
# file, the import's report of rejected rows).
RESULT_KEYS = {"result": "file_key", "error_report": "error_report_file_key"}


def _chunks(reader: FileReader) -> Iterator[bytes]:
    with reader:
        yield from reader.chunks()


class JobFilesController(Controller):
    path = "/admin/jobstream/jobs"
    tags = ["Operator: jobs"]
    security = openapi.LOGGED_IN

    @get(
        "/{job_id:str}/files/{kind:str}",
        sync_to_thread=True,
        operation_id="GetJobstreamJobsJobFile",
        responses=openapi.errors(400, 401, 404),
    )
    def job_file(
        self,
        job_id: FromPath[str],
        kind: FromPath[str],
        operator: NamedDependency[OperatorService],
        caller: NamedDependency[User],
    ) -> Stream:
        """The job's `result` file (an export) or `error_report` (an import's), as CSV.

        For the job's creator, or an admin; 404 when the job has no such file (not
        written yet, removed, or of a type that writes none).
        """
        field = RESULT_KEYS.get(kind)
        if field is None:
            raise InvalidDataError(f"kind must be one of: {', '.join(RESULT_KEYS)}")
        job = operator.job(job_id, caller)
        key = (job.result or {}).get(field)
        if not isinstance(key, str) or not key:
            raise NotFoundError(f"Batch job {job_id} has no {kind} file")
        size, reader = operator.open_file(key)
        name = PurePosixPath(key).name
        return Stream(
            _chunks(reader),
            media_type="text/csv",
            headers={
                **SAFE_HEADERS,
                "content-length": str(size),
                "content-disposition": f'attachment; filename="{name}"',
            },
        )
