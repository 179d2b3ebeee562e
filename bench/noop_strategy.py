"""A `bench-noop` batch type whose processing does nothing, so the API is what we measure.

`api_lifecycle.py` registers it through a throwaway `jobstream.strategies` entry point
(a fake dist-info on the server's PYTHONPATH); nothing installs it for real.
"""

from __future__ import annotations

from domain.strategies import AbstractBatchJobStrategy, JobRun


class NoopStrategy(AbstractBatchJobStrategy):
    batch_type = "bench-noop"
    identifier = "bench-noop-strategy"

    def process_job(self, run: JobRun) -> None:
        run.update(result={"count": 0, "advancement_count": 0, "progress": 1})


def factory(services: object) -> NoopStrategy:  # noqa: ARG001 - the entry-point signature
    return NoopStrategy()
