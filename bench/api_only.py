"""The Admin API without the in-process job processor, for `pipeline.py`.

There is no `jobstream api` command yet: `jobstream serve` always runs the processor.
This launcher builds the same app with `Runtime(settings, process_jobs=False)`, so the
API stores events and keeps its read model current while `jobstream worker`
processes run the jobs they get from NATS JetStream.

Run: `.venv/bin/python bench/api_only.py` with the `JOBSTREAM_*` variables set.
"""

from __future__ import annotations

import uvicorn

from service.http.app import create_app
from service.logs import configure_logging
from service.runtime import Runtime
from service.settings import load_settings


def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(Runtime(settings, process_jobs=False))
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
