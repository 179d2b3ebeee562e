"""The framework limit for `api_lifecycle.py`: a minimal Litestar app on `serve`'s stack.

It answers the benchmark's requests with constant documents shaped like Jobstream's
(a batch job for GET by id and for a create, a page of 10 or 100 of them for the
lists), encoded once at import, with no auth, storage or middleware. It is served by
`service.commandline.http_server` (the same `bind`, uvicorn options and server class
as `jobstream serve`) after the same garbage-collector tuning, so the rate wrk gets
from it is what this machine allows the HTTP stack alone: the ceiling each Jobstream
figure is printed as a fraction of.

Run: `.venv/bin/python bench/framework_limit.py` with `JOBSTREAM_HOST` and
`JOBSTREAM_PORT` set (127.0.0.1:9000 without them).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.status_codes import HTTP_201_CREATED

from service.commandline import http_server
from service.gc_tuning import tune_gc
from service.logs import configure_logging
from service.settings import load_settings

JSON = "application/json"
STAMP = "2026-12-02T06:00:00.000Z"


def batch_job(index: int) -> dict[str, object]:
    """A dry-run `bench-noop` job as Jobstream renders it once pre-processed."""
    return {
        "id": f"batch_{index:026d}",
        "type": "bench-noop",
        "created_by": "usr_01JBENCHBENCHBENCHBENCHBENC",
        "context": {},
        "result": None,
        "dry_run": True,
        "created_at": STAMP,
        "updated_at": STAMP,
        "deleted_at": None,
        "pre_processed_at": STAMP,
        "confirmed_at": None,
        "processing_at": None,
        "completed_at": None,
        "canceled_at": None,
        "failed_at": None,
        "status": "pre_processed",
    }


ONE_JOB = msgspec.json.encode({"batch_job": batch_job(0)})
PAGES = {
    limit: msgspec.json.encode(
        {
            "batch_jobs": [batch_job(i) for i in range(limit)],
            "count": 5000,
            "offset": 0,
            "limit": limit,
        }
    )
    for limit in (10, 100)
}


@get("/health", sync_to_thread=False)
def health() -> Response[bytes]:
    return Response(b'{"status":"ok","checks":{}}', media_type=JSON)


@get("/admin/batch-jobs/{job_id:str}", sync_to_thread=False)
def get_job(job_id: str) -> Response[bytes]:  # noqa: ARG001 - every id is the same job
    return Response(ONE_JOB, media_type=JSON)


@get("/admin/batch-jobs", sync_to_thread=False)
def list_jobs(limit: int = 10) -> Response[bytes]:
    return Response(PAGES[100 if limit > 10 else 10], media_type=JSON)


@post("/admin/batch-jobs")
async def create_job(request: Request[Any, Any, Any]) -> Response[bytes]:
    msgspec.json.decode(await request.body())  # the request is read and parsed
    return Response(ONE_JOB, media_type=JSON, status_code=HTTP_201_CREATED)


app = Litestar([health, get_job, list_jobs, create_job])


def main() -> int:
    tune_gc()
    configure_logging(
        os.environ.get("JOBSTREAM_LOG_LEVEL", "info"),
        os.environ.get("JOBSTREAM_LOG_FORMAT", "auto"),
    )
    host = os.environ.get("JOBSTREAM_HOST", "127.0.0.1")
    port = int(os.environ.get("JOBSTREAM_PORT", "9000"))
    settings = load_settings()  # JOBSTREAM_HTTP_WORKERS: as many processes as serve
    return http_server.run_processes(
        lambda *, primary: app,  # noqa: ARG005 - every process serves the same app
        http_server.bind(host, port),
        settings.header_timeout_seconds,
        settings.http_processes,
    )


if __name__ == "__main__":
    sys.exit(main())
