"""Jobstream's read models: batch jobs and the catalog, each defined once."""

from __future__ import annotations

from domain.batch_jobs import BatchJob
from domain.catalog.base import CatalogAggregate
from projections.batch_jobs.memory import InMemoryBatchJobsView
from projections.batch_jobs.postgres import PostgresBatchJobsView
from projections.batch_jobs.projection import BatchJobsProjection
from projections.batch_jobs.sqlite import SQLiteBatchJobsView
from projections.catalog.postgres import PostgresCatalogView
from projections.catalog.projection import CatalogProjection
from projections.catalog.sqlite import SQLiteCatalogView
from projections.read_models.definition import ReadModelDefinition

BATCH_JOBS = ReadModelDefinition(
    name=BatchJobsProjection.name,
    projection=BatchJobsProjection,
    topics=BatchJobsProjection.topics,
    event_type=BatchJob.Event,
    views={
        "sqlite": SQLiteBatchJobsView,
        "postgres": PostgresBatchJobsView,
        "memory": InMemoryBatchJobsView,
    },
    health_check="read_model",
    details_prefix="projection",
)
CATALOG = ReadModelDefinition(
    name=CatalogProjection.name,
    projection=CatalogProjection,
    topics=CatalogProjection.topics,
    event_type=CatalogAggregate.Event,
    # In memory: the SQLite view on a database in memory (service.stores).
    views={
        "sqlite": SQLiteCatalogView,
        "postgres": PostgresCatalogView,
        "memory": SQLiteCatalogView,
    },
    health_check="catalog",
    details_prefix="catalog",
)
READ_MODELS: tuple[ReadModelDefinition, ...] = (BATCH_JOBS, CATALOG)
NAMES = tuple(definition.name for definition in READ_MODELS)


def definition_of(name: str) -> ReadModelDefinition:
    """The read model called `name`; ValueError naming the known ones if none is."""
    for definition in READ_MODELS:
        if definition.name == name:
            return definition
    raise ValueError(f"no read model called {name!r}: {', '.join(NAMES)}")
