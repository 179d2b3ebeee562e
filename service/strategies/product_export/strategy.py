"""product-export: Medusa v1's export strategy over the catalog read model.

Pre-processing pages through the selected products once to learn the dynamic columns
(`context.shape`). Processing writes the header, then one line per variant a page at a
time, updating `file_size`, `count`, `advancement_count` and `progress` as it goes
(at most every PROGRESS_SECONDS, and once the file is stored). The file appears in
storage only when complete: a cancel, a failure or a worker killed mid-way leaves
nothing behind under the key.

A rerun (a retry after an outage, a takeover) writes a file of its own, under a new
key. The earlier attempt's file is deleted only once the new file is stored and the
job's pointer to it saved, so whatever the job names is stored: a rerun that fails,
or that finds another attempt took the job over (its writes are fenced), never
deletes or overwrites another attempt's file.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any, ClassVar

import structlog

from domain.product_csv.export_format import (
    ExportLayout,
    ExportShape,
    Region,
    regions_by_id,
)
from domain.strategies import (
    AbstractBatchJobStrategy,
    BatchJobDraft,
    prepares_without_io,
)
from service.catalog.commands import batch_actor
from service.metrics.instruments import ROWS_EXPORTED
from service.strategies.product_export.list_config import (
    ExportSelection,
    prepared_context,
    product_filter,
)
from service.strategies.product_export.pages import (
    product_count,
    product_pages,
    shape_pages,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from domain.strategies import BatchJobSnapshot, JobRun
    from service.catalog.readmodel import CatalogReadModel
    from service.files.owners import FileOwners
    from service.files.storage import FileStorage, FileWriter

log = structlog.get_logger("product_export")
# Progress is saved at most this often: a save per page (Medusa's way) made a
# 1,500-page export write 1,500 events, and a cancel kept losing the race to them.
PROGRESS_SECONDS = 0.1


def export_file_key(job_id: str) -> str:
    """Medusa's `exports/products/product-export-<ms>`, plus the job and a nonce.

    Never shared, not even by two attempts at one job starting in one millisecond
    (another worker's takeover): an attempt never overwrites another's file.
    """
    stamp = int(time.time() * 1000)
    return (
        f"exports/products/product-export-{stamp}-{job_id}-{uuid.uuid4().hex[:8]}.csv"
    )


class ProductExportStrategy(AbstractBatchJobStrategy):
    batch_type: ClassVar[str] = "product-export"
    identifier: ClassVar[str] = "product-export-strategy"

    def __init__(
        self,
        catalog: Callable[[], CatalogReadModel],
        files: FileStorage,
        owners: FileOwners,
    ) -> None:
        self._catalog = catalog
        self._files = files
        self._owners = owners

    @prepares_without_io
    def prepare_batch_job_for_processing(
        self, draft: BatchJobDraft, user_id: str
    ) -> BatchJobDraft:
        product_filter(draft.context.get("filterable_fields") or {})  # 400 if unknown
        return BatchJobDraft(
            type=draft.type,
            context=prepared_context(draft.context),
            dry_run=draft.dry_run,
        )

    def build_template(self) -> str:
        return ""

    def pre_process_batch_job(self, run: JobRun) -> None:
        job = run.job()
        catalog = self._catalog()
        catalog.catch_up()  # every product saved before this step is in the view
        selection = ExportSelection.of(job.context)
        count = product_count(catalog.view, selection)
        regions = self._regions(catalog)
        shape = ExportShape()
        for page in shape_pages(catalog.view, selection, count):
            for product in page:
                shape.add_counts(
                    options=len(product.options),
                    images=len(product.images),
                    sales_channels=len(product.sales_channels),
                    categories=len(product.categories),
                )
                for variant in product.variants:
                    for price in variant.prices:
                        shape.add_price(price.currency_code, price.region_id, regions)
        run.update(
            context={"shape": shape.to_context()},
            result={
                "stat_descriptors": [
                    {
                        "key": "product-export-count",
                        "name": "Product count to export",
                        "message": f"There will be {count} products exported by this action",
                    }
                ]
            },
        )

    def process_job(self, run: JobRun) -> None:
        job = run.job()
        earlier = (job.result or {}).get("file_key")  # an earlier attempt's, if any
        catalog = self._catalog()
        catalog.catch_up()
        layout = ExportLayout(ExportShape.from_context(job.context.get("shape") or {}))
        selection = ExportSelection.of(job.context)
        key = export_file_key(job.id)
        writer = self._files_of(job).open_writer(key)
        try:
            written = self._write(run, writer, layout, catalog, selection)
            if written is None:
                writer.abort()  # canceled: the partial file never appears
                run.update(unset_result=("file_key", "file_size"))
                log.info("product_export.canceled", file_key=key)
                return
            writer.commit()
        except BaseException:
            writer.abort()
            raise
        figures, rows = written
        try:
            # Fenced: fails if another attempt took the job over meanwhile.
            run.update(result={"file_key": key, "file_size": writer.size, **figures})
        except BaseException:
            # Nothing completes with this file: a rerun writes its own.
            self._discard(key, "this attempt's, unclaimed")
            raise
        ROWS_EXPORTED.labels(self.batch_type).inc(rows)  # once the file is the job's
        log.info("product_export.written", file_key=key, file_size=writer.size)
        if isinstance(earlier, str) and earlier != key:
            # Only this attempt or a later one writes the pointer now: never back.
            self._discard(earlier, "an earlier attempt's")

    def _write(
        self,
        run: JobRun,
        writer: FileWriter,
        layout: ExportLayout,
        catalog: CatalogReadModel,
        selection: ExportSelection,
    ) -> tuple[dict[str, Any], int] | None:
        """Header and lines into `writer`: unsaved figures and lines; None if canceled.

        The last page's figures are left to the write that follows the file's commit.
        """
        writer.write(layout.header())
        run.update(result={"file_key": writer.key, "file_size": writer.size})
        count = product_count(catalog.view, selection)
        done, reported, reported_at, rows = 0, 0, -PROGRESS_SECONDS, 0
        for page in product_pages(catalog.view, selection, count):
            for product in page:
                lines = layout.lines(product)
                writer.writelines(lines)
                rows += len(lines)
            done += len(page)
            if run.is_canceled():
                return None
            if done < count and time.monotonic() - reported_at >= PROGRESS_SECONDS:
                reported, reported_at = done, time.monotonic()
                figures = self._figures(writer, count, done)
                if run.update(result=figures).status == "canceled":
                    return None
        last = {} if reported == done else self._figures(writer, count, done)
        return last, rows

    @staticmethod
    def _figures(writer: FileWriter, count: int, done: int) -> dict[str, Any]:
        return {
            "file_size": writer.size,
            "count": count,
            "advancement_count": done,
            "progress": done / count,
        }

    def _regions(self, catalog: CatalogReadModel) -> dict[str, Region]:
        return regions_by_id(
            Region(r.id, r.name, r.currency_code) for r in catalog.view.list_regions()
        )

    def _files_of(self, job: BatchJobSnapshot) -> FileStorage:
        """The file store, where the export file is recorded as the job creator's."""
        if job.created_by is None:
            return self._files
        return self._owners.writes_by(self._files, job.created_by, batch_actor(job.id))

    def _discard(self, key: str, whose: str) -> None:
        """Delete a file no job points at; one left behind is logged, never raised."""
        try:
            removed = self._files.delete(key)
        except Exception as error:  # noqa: BLE001 - an orphan file, not the job's fault
            log.warning(
                "product_export.file_left", file_key=key, whose=whose, error=repr(error)
            )
            return
        if removed:
            log.info("product_export.file_removed", file_key=key, whose=whose)

    def handle_canceled_processing(self, run: JobRun) -> None:
        """Canceled after the file was committed, before the completion: remove it."""
        key = (run.job().result or {}).get("file_key")
        if not isinstance(key, str):
            return  # stopped mid-way: the writer was aborted, the result cleaned
        removed = self._files.delete(key)
        run.update(unset_result=("file_key", "file_size"))
        log.info("product_export.canceled_file_removed", file_key=key, removed=removed)

    def handle_processing_error(self, run: JobRun, error: Exception) -> None:
        """Medusa records `{message, code, err}` before the subscriber adds the text."""
        result = run.job().result or {}
        errors = [*(result.get("errors") or [])]
        message = str(error) or f"Something went wrong with the batchJob {run.job_id}"
        errors.append(
            {"message": message, "code": getattr(error, "type", "unknown"), "err": {}}
        )
        # Fenced: once the result names no file, a file an attempt of this one (or
        # an earlier one) stored is nobody's, and goes.
        run.update(result={"errors": errors}, unset_result=("file_key", "file_size"))
        if isinstance(key := result.get("file_key"), str):
            self._discard(key, "a failed attempt's")
