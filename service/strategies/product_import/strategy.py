"""product-import: Medusa v1's import strategy, streamed, validated, applied atomically.

Pre-processing reads the uploaded CSV row by row (`open_text`, the `csv` module),
plans one instruction per row against the catalog, and writes the instructions to
one JSON-lines file per job (`imports/products/ops/<job>.jsonl`), as Medusa writes
its op files. Processing applies exactly those instructions: what the preview
counted is what is imported, with no second parse that could read the catalog
differently. A file with problems fails the job before anything is confirmed: every
bad row is listed, and an error report CSV is stored beside the upload.

Processing applies the instructions 500 at a time, reading the products they touch
in bulk, and stages the events on local disk (`StagedChanges`, so memory stays flat
however long the file); the whole stage is committed in one transaction together
with the job's import claim (`product-import:<job>`): a redelivered message or a
retried attempt finds the claim and only finishes the clean-up.
"""

from __future__ import annotations

import csv
import time
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.catalog import claims
from domain.catalog.claims import Claim
from domain.errors import InvalidDataError
from domain.product_csv.import_plan import ImportPlanner, preview
from domain.product_csv.import_rows import read_rows
from domain.product_csv.problems import PARSING_FAILED
from domain.strategies import AbstractBatchJobStrategy
from service.batching import batched
from service.catalog.commands import Catalog, batch_actor
from service.catalog.lookups import CatalogLookups
from service.catalog.staged import StagedChanges
from service.files.owners import FileOwners
from service.files.storage import InvalidFileKeyError, check_key
from service.metrics.instruments import ROWS_IMPORTED
from service.strategies.product_import.apply import InstructionApplier
from service.strategies.product_import.lookups import PlanLookups
from service.strategies.product_import.report import ProblemReport

if TYPE_CHECKING:
    from collections.abc import Callable

    from domain.strategies import BatchJobDraft, BatchJobSnapshot, JobRun
    from service.application import Jobstream
    from service.catalog.readmodel import CatalogReadModel
    from service.files.storage import FileStorage

log = structlog.get_logger("product_import")
PROGRESS_SECONDS = 0.5  # advancement_count is written at most this often
CHUNK_ROWS = 500  # instructions read, prefetched, applied and staged together
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(dict[str, Any]).decode


def ops_key(job_id: str) -> str:
    return f"imports/products/ops/{job_id}.jsonl"


def import_claim_key(job_id: str) -> str:
    return claims.claim_key(claims.PRODUCT_IMPORT, job_id)


def uploaded_key(job: BatchJobSnapshot) -> str:
    key = job.context.get("fileKey")
    if not isinstance(key, str) or not key:
        raise InvalidDataError(PARSING_FAILED + "context.fileKey must name the file")
    return key


class ProductImportStrategy(AbstractBatchJobStrategy):
    batch_type: ClassVar[str] = "product-import"
    identifier: ClassVar[str] = "product-import-strategy"

    def __init__(
        self,
        app: Jobstream,
        catalog: Callable[[], CatalogReadModel],
        files: FileStorage,
    ) -> None:
        self._app = app
        self._catalog_reads = catalog
        self._files = files
        self._owners = FileOwners(app)
        self._catalog = Catalog(app)

    def build_template(self) -> str:
        raise NotImplementedError("Not implemented!")

    def prepare_batch_job_for_processing(
        self, draft: BatchJobDraft, user_id: str
    ) -> BatchJobDraft:
        """Refuse another user's file as `fileKey`; Medusa stores the context as sent."""
        self._check_source(draft.context.get("fileKey"), user_id, before_reading=False)
        return draft

    def _check_source(
        self, key: object, user_id: str | None, *, before_reading: bool
    ) -> None:
        """Raise if the file is not the user's; a key that names no file fails later."""
        if not isinstance(key, str) or user_id is None:
            return
        try:
            check_key(key)
        except InvalidFileKeyError:
            return
        user = self._app.get_user(user_id)
        role = None if user is None else user.role
        self._owners.check(
            self._files, key, user_id, role, before_reading=before_reading
        )

    def _files_of(self, job: BatchJobSnapshot) -> FileStorage:
        """The file store, where files the job writes are recorded as its creator's."""
        if job.created_by is None:
            return self._files
        return self._owners.writes_by(self._files, job.created_by, batch_actor(job.id))

    def should_retry_on_processing_error(
        self, job: BatchJobSnapshot, error: Exception
    ) -> bool:
        """A commit that lost a race (a staged product changed meanwhile) is retried.

        Nothing of it was written; the next attempt re-reads the products and applies
        the same instructions on top of the other change.
        """
        return isinstance(error, IntegrityError)

    def _lookups(self) -> CatalogLookups:
        reads = self._catalog_reads()
        reads.catch_up()  # every record saved before this step is in the view
        return CatalogLookups(self._app, reads.view)

    # -- pre-processing ----------------------------------------------------------

    def pre_process_batch_job(self, run: JobRun) -> None:
        try:
            self._pre_process(run)
        except UnicodeDecodeError as error:
            message = "the file is not UTF-8 text; save it as CSV UTF-8"
            raise InvalidDataError(PARSING_FAILED + message) from error
        except csv.Error as error:
            raise InvalidDataError(f"{PARSING_FAILED}{error}") from error

    def _pre_process(self, run: JobRun) -> None:
        job = run.job()
        # Again, just before reading: the file may have appeared since the create.
        self._check_source(
            job.context.get("fileKey"), job.created_by, before_reading=True
        )
        planner = ImportPlanner(PlanLookups(self._lookups()))
        with self._files.open_text(uploaded_key(job), encoding="utf-8-sig") as text:
            header, rows = read_rows(text)
            if header is None:
                raise InvalidDataError(PARSING_FAILED + "the file is empty")
            report = ProblemReport(self._files_of(job), job.id, header)
            writer = self._files.open_writer(ops_key(job.id))
            try:
                report.add_header(header.problems)
                for chunk in batched(rows, CHUNK_ROWS):
                    planner.prefetch(chunk)
                    for row in chunk:
                        instruction = planner.plan(row)
                        report.add(row.problems, row.cells)
                        if report.clean:
                            writer.write(_encode(instruction) + b"\n")
            except BaseException:
                writer.abort()
                report.abort()
                raise
        if not report.clean:
            writer.abort()
            run.update(result={"error_report_file_key": report.key})
            raise report.rejection()
        writer.commit()
        # Medusa's `files` names an op file per kind of operation present; one file
        # holds all of ours.
        files = {op: writer.key for op, count in planner.operations.items() if count}
        run.update(result={**preview(planner.operations), "files": files})
        log.info("product_import.planned", **planner.operations)

    # -- processing --------------------------------------------------------------

    def process_job(self, run: JobRun) -> None:
        job = run.job()
        if not self._imported(job.id) and not self._import(run, job):
            return  # canceled
        self._finish(run, job)

    def _imported(self, job_id: str) -> bool:
        try:
            self._app.repository.get(import_claim_key(job_id))
        except AggregateNotFoundError:
            return False
        return True

    def _import(self, run: JobRun, job: BatchJobSnapshot) -> bool:
        """All instructions into one staged change set, committed with the claim."""
        actor = batch_actor(job.id)
        changes = StagedChanges(self._app, actor)
        started = time.monotonic()
        try:
            rows = self._stage(run, job, changes)
            if rows is None:
                return False
            staged = time.monotonic()
            marker = Claim.take(import_claim_key(job.id), job.id, actor)
            try:
                changes.save(marker)
            except IntegrityError:
                if not self._imported(job.id):
                    raise
                log.info("product_import.imported_elsewhere")  # a redelivery won
                return True
            ROWS_IMPORTED.labels(self.batch_type).inc(rows)  # by the commit that landed
        finally:
            changes.close()
        log.info(
            "product_import.saved",
            events=changes.staged_events,
            stage_seconds=round(staged - started, 3),
            commit_seconds=round(time.monotonic() - staged, 3),
        )
        return True

    def _stage(
        self, run: JobRun, job: BatchJobSnapshot, changes: StagedChanges
    ) -> int | None:
        """Apply the instructions chunk by chunk; the rows staged, None if canceled.

        An instruction is a CSV row's.
        """
        applier = InstructionApplier(self._catalog, changes, self._lookups())
        done, reported, rows = 0, time.monotonic(), 0
        with self._files.open_text(ops_key(job.id)) as lines:
            for chunk in batched(lines, CHUNK_ROWS):
                instructions = [_decode(line) for line in chunk]
                rows += len(instructions)
                applier.prefetch(instructions)
                for instruction in instructions:
                    done += applier.apply(instruction)
                applier.settle()
                changes.flush()
                if time.monotonic() - reported >= PROGRESS_SECONDS:
                    reported = time.monotonic()
                    after = run.update(result={"advancement_count": done})
                    if after.status == "canceled" or run.is_canceled():
                        log.info("product_import.canceled", advancement_count=done)
                        return None
        return rows

    def _finish(self, run: JobRun, job: BatchJobSnapshot) -> None:
        """Medusa's finalize: progress to the count; the upload and op file removed.

        The upload only if the job's creator owns it: an admin's import of a file
        stored before owners were recorded leaves it in place.
        """
        count = (job.result or {}).get("count", 0)
        run.update(result={"advancement_count": count})
        source = job.context.get("fileKey")
        if isinstance(source, str) and source:
            if job.created_by and self._owners.owner_of(source) == job.created_by:
                self._files.delete(source)
            else:
                log.info("product_import.source_kept", file_key=source)
        self._files.delete(ops_key(job.id))
