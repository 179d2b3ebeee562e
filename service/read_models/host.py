"""Every read model of a process, hosted alike from its definition.

For each read model (projections.read_models.known) the host builds its view on
the configured backend and, where this process keeps it (`project`), a catch-up
runner that folds its events and records skips, parks poison events and tells other
processes its new positions. Reads wait on it the same way whoever keeps it:
`catch_up()` before a read (every event stored when the request began), `settle()`
after a write (the caller's next read shows it). The host also answers health,
lag, parked events, and builds a model's live rebuild.

Embedded (SQLite), positions cross processes through SharedPositions (a mapped file
and a wake-up socket): the keeper publishes them and takes the others' wake-ups,
which wake its runners and, through `also_wake`, the process's job engine. With
`other_writers` (several HTTP processes on one data directory) no process hears
every save, so the log's head is asked of the store each time.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import structlog
from eventsourcing.persistence import IntegrityError, Tracking

from projections import swap
from projections.read_models.known import READ_MODELS, definition_of
from projections.rebuild import LiveRebuild, Progress
from projections.runner import CatchUpRunner
from projections.sqlite_reads import ThreadReads
from service import parked, positions
from service.event_store import UnpipelinedPostgresRecorder
from service.pg_listener import NotificationListener
from service.read_model_lag import ReadModelLagError
from service.read_models.caller_positions import (
    CallerPositions,
    SharedCallerPositions,
    UnsharedCallerPositions,
)
from service.read_models.head import Head, KnownHead, QueriedHead
from service.read_models.position_notices import PositionNotices
from service.read_models.postgres_callers import PostgresCallerPositions
from service.read_models.remote_positions import (
    POSITIONS_CHANNEL,
    NotifiedRemotePositions,
    PollingRemotePositions,
    RemotePositions,
)
from service.read_models.shared_positions import SharedPositions, waited_for
from service.settings import storage_env
from service.stores import in_memory_view, infrastructure, schema_lock

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterator, Sequence

    from eventsourcing.persistence import InfrastructureFactory

    from projections.read_models.definition import Backend, ReadModelDefinition
    from service.application import Jobstream
    from service.settings import Settings

log = structlog.get_logger("read_models")
V = TypeVar("V")
# As eventsourcing's SQLite recorder asks it (its statement, when it has one).
HEAD_SQL = "SELECT MAX(rowid) FROM stored_events"


class HostedReadModel(Generic[V]):
    """One read model in this process: its view, its runner, and the waits on it."""

    def __init__(  # noqa: PLR0913 - wiring, all by name
        self,
        definition: ReadModelDefinition,
        view: V,
        *,
        app: Jobstream,
        project: bool,
        timeout: float,
        head: Head,
        remote: RemotePositions,
        on_advance: Callable[[str, int], None] | None = None,
        local_reads: bool = False,
        heard_positions: bool = False,
        callers: CallerPositions | None = None,
    ) -> None:
        self.definition = definition
        self.name = definition.name
        self.view: V = view
        self.project = project
        self._upstream = app.name
        self._timeout = timeout
        self._head = head
        self._remote = remote
        self._callers = callers or UnsharedCallerPositions()
        # The log's end when this process started (see `start_reading`).
        self._floor = 0
        # Head, position and view are local files, read in microseconds (is_current).
        self._local_reads = local_reads
        # Or head and position are heard (PostgreSQL's NOTIFY) and kept in memory.
        self._heard_positions = heard_positions
        # Every view is a TrackingRecorder (the definition's classes are).
        self._tracking: Any = view
        name = self.name
        self.runner = CatchUpRunner(
            name=definition.runner_name,
            recorder=app.recorder,
            mapper=app.mapper,
            topics=definition.topics,
            start_position=lambda: self._tracking.max_tracking_id(app.name),
            handler=definition.projection(view, app.name),
            on_error=_log_runner_error,
            on_skip=self._record_skip,
            on_poison=parked.parker(name, view, app.name),
            on_advance=None
            if on_advance is None
            else (lambda position: on_advance(name, position)),
        )

    def _record_skip(self, position: int) -> None:
        tracking = Tracking(self._upstream, position)
        with contextlib.suppress(IntegrityError):  # recorded further already
            view = self.view
            if isinstance(view, swap.Rebuildable) and view.on_tracked is not None:
                # One transaction records it and NOTIFYs it (PositionNotices), where
                # a record and then a notice took two.
                with view.write_transaction() as curs:
                    view.track(curs, tracking)
                return
            self._tracking.insert_tracking(tracking)

    def recorded(self) -> int:
        """The position its store has recorded (0 if none)."""
        return positions.recorded(self._tracking, self._upstream)

    def wait_for(self, position: int) -> bool:
        """True once the view has folded every event up to `position`."""
        if self.project:
            return self.runner.wait_for(position, self._timeout)
        return self._remote.wait(self.name, position, self._timeout)

    def start_reading(self) -> None:
        """Remember where the log ended as this process starts serving reads.

        A caller's read never answers from a view behind that point: after a
        restart, or while a deleted view is rebuilt, reads wait as before.
        """
        self._floor = self._head()

    def _needed(
        self,
        caller_id: str | None,
        *,
        everything: bool,
        head: Callable[[], int] | None = None,
    ) -> int:
        """Where a read must find the view (see `catch_up`); `head` if not the Head."""
        head = head or self._head
        mine = None if caller_id is None else self._callers.last_write(caller_id)
        if mine is None:
            return head()
        # Not bounded by the head as this process knows it: another process's
        # write may be newer than this process has heard of.
        mine = max(mine, self._floor)
        return max(mine, head()) if everything else mine

    def is_current(self, caller_id: str | None = None) -> bool:
        """Without waiting: the view has what `caller_id`'s read must show.

        Asked on the event loop, so never at the cost of a network round trip.
        Embedded, head and position are local files, read in microseconds. On
        PostgreSQL both must be known in memory: the head as this process heard it
        (Head.known: listener connected, no save of unknown position) and the
        view's position as its runner, or its keeper's notices, told it. Else
        False, and the caller waits in `catch_up`.
        """
        if self._local_reads:
            needed = self._needed(caller_id, everything=False)
            if self.project:
                return self.runner.position >= needed
            return self._remote.position(self.name) >= needed
        if caller_id is not None and self._callers.shared:
            return False  # the caller's record is in the database: `covers` decides
        head = self._head.known() if self._heard_positions else None
        if head is None:
            return False
        needed = self._needed(caller_id, everything=False, head=lambda: head)
        if self.project:
            return self.runner.position >= needed
        position = self._remote.known(self.name)
        return position is not None and position >= needed

    def covers(self, known: int | None, last_write: int) -> bool:
        """A view known at `known` (`known_position`) has a caller's writes.

        `last_write`: the caller's record, read after its request began (on
        PostgreSQL with the document, AwaitableDocuments.get_document_for).
        """
        return known is not None and known >= max(last_write, self._floor)

    def known_position(self) -> int | None:
        """The view's position as known in memory (it may be behind, never ahead).

        None where only a read of its store would tell. Asked on the event loop.
        """
        if self.project:
            return self.runner.position
        if self._local_reads:
            return self._remote.position(self.name)  # a mapped file: no round trip
        return self._remote.known(self.name)

    def catch_up(
        self, caller_id: str | None = None, *, everything: bool = False
    ) -> None:
        """Before a read: the view has every event stored when the request began.

        With `caller_id`, where the callers' writes are known: every write of that
        caller's instead (read-your-writes; others' writes show a round later), or
        with `everything` both.
        """
        position = self._needed(caller_id, everything=everything)
        if not self.wait_for(position):
            raise ReadModelLagError(position)

    def settle(self, position: int, caller_id: str | None = None) -> None:
        """After a write: make sure the caller's next read shows it.

        Where the caller's positions are shared, recording the write is enough: the
        next read waits for it. Elsewhere the write waits for the view. The write is
        durable either way; a lagging view only delays the answer.
        """
        if self._recorded_is_enough(position, caller_id):
            return
        if not self.wait_for(position):
            log.warning("read_models.lag", read_model=self.name, position=position)

    def _recorded_is_enough(self, position: int, caller_id: str | None) -> bool:
        """Record the caller's write; True where that alone settles it (shared)."""
        if caller_id is None:
            return False
        self._callers.record(caller_id, position)
        return self._callers.shared

    async def settle_async(self, position: int, caller_id: str | None = None) -> None:
        """`settle` on an event loop: awaits this process's runner, holding no thread."""
        if self._recorded_is_enough(position, caller_id):
            return
        if self.project:
            caught_up = await self.runner.wait_for_async(position, self._timeout)
        else:  # another process's position: told by its notices
            caught_up = await self._remote.wait_async(
                self.name, position, self._timeout
            )
        if not caught_up:
            log.warning("read_models.lag", read_model=self.name, position=position)


class ReadModelHost:
    """The read models of one process, built from Settings and the application.

    `project`: this process keeps them (runs their runners); else another process
    does, and waits follow its positions (`remote`). `backend` overrides the one the
    settings name ("memory" for tests); `head` and `remote` override how the log's
    head and the other process's positions are learnt.
    """

    def __init__(  # noqa: PLR0913 - all optional but the two, by name
        self,
        settings: Settings,
        app: Jobstream,
        *,
        project: bool = True,
        backend: Backend | None = None,
        definitions: Sequence[ReadModelDefinition] = READ_MODELS,
        pool_size: int = 4,
        head: Head | None = None,
        remote: RemotePositions | None = None,
        other_writers: bool = False,
    ) -> None:
        self.settings = settings
        self.app = app
        self.project = project
        self.backend: Backend = backend or (
            "postgres" if settings.is_postgres else "sqlite"
        )
        self._factories: list[InfrastructureFactory[Any]] = []
        postgres = self.backend == "postgres"
        sqlite = self.backend == "sqlite"
        self._other_writers = other_writers
        # Embedded: the head read on a connection of the asking thread's own (no
        # pool to wait for: it is asked on the event loop).
        self._head_reads = (
            ThreadReads(storage_env(settings, "events")["SQLITE_DBNAME"])
            if sqlite
            else None
        )
        self.head = head or self._default_head()
        self.remote = remote or self._default_remote()
        # Every process serving reads finds the same record of each caller's writes:
        # a mapped file embedded, a table beside the events on PostgreSQL.
        self.callers = self._default_callers()
        # Other processes' saves, and the positions they tell, are heard on
        # PostgreSQL, on one connection: they wake the runners here, teach the head
        # and the remote positions. `also_wake` adds the process's other runners.
        self._listener: NotificationListener | None = None
        self.also_wake: list[Callable[[Sequence[str] | None], None]] = []
        if postgres and settings.database_url is not None:
            self._listener = self._build_listener(settings.database_url)
        self._models: dict[str, HostedReadModel[Any]] = {}
        for definition in definitions:
            view = self._build_view(definition, pool_size)
            # The keeper of a PostgreSQL view tells other processes where it stands.
            notices = PositionNotices(view.datastore) if project and postgres else None
            on_advance = None if notices is None else notices.tell
            if notices is not None and isinstance(view, swap.Rebuildable):
                view.on_tracked = notices.in_transaction(definition.name)
            if project and isinstance(self.remote, SharedPositions):
                on_advance = self.remote.publish  # the embedded counterpart
            self._models[definition.name] = HostedReadModel(
                definition,
                view,
                app=app,
                project=project,
                timeout=settings.read_your_writes_timeout,
                head=self.head,
                remote=self.remote,
                on_advance=on_advance,
                local_reads=sqlite,
                heard_positions=postgres,
                callers=self.callers,
            )

    def _default_callers(self) -> CallerPositions:
        if self.backend == "sqlite":
            return SharedCallerPositions(self.settings.data_path)
        recorder = self.app.recorder
        if self.backend == "postgres" and isinstance(
            recorder, UnpipelinedPostgresRecorder
        ):
            callers = PostgresCallerPositions(
                recorder.datastore, recorder.callers_table
            )
            recorder.callers_saved.append(callers.saved)
            return callers
        return UnsharedCallerPositions()  # reads wait for the head

    def _build_listener(self, url: str) -> NotificationListener:
        channel = getattr(self.app.recorder, "channel_name", "jobstream_events")
        remote = self.remote
        notified = remote if isinstance(remote, NotifiedRemotePositions) else None
        also = {} if notified is None else {POSITIONS_CHANNEL: notified.heard}

        def connected() -> None:
            # Saves while nobody listened went unheard: the head must be asked again.
            self.head.saved(None)
            if notified is not None:
                notified.listening_changed(listening=True)

        def disconnected() -> None:
            if notified is not None:
                notified.listening_changed(listening=False)

        # This application's own saves reached its runners already (save_listeners).
        own = getattr(self.app.recorder, "own_backends", ())
        return NotificationListener(
            url, channel, self._heard, on_position=self.head.saved,
            on_connect=connected, on_disconnect=disconnected, also=also, own=own,
        )  # fmt: skip

    def _default_head(self) -> Head:
        query = self._head_query()

        if self.backend == "postgres":
            # Others' saves are known only while their NOTIFYs are heard.
            return KnownHead(
                query, lambda: self._listener is not None and self._listener.connected
            )
        if self.settings.nats_url is None and not self._other_writers:
            # Embedded, jobs run in this process: its application is the store's one
            # writer of read models' events (the CLI's `user create` writes none).
            return KnownHead(query)
        # Embedded with NATS, the relay's and worker's applications write the same
        # files unheard, as other HTTP processes do: ask the store.
        return QueriedHead(query)

    def _head_query(self) -> Callable[[], int]:
        reads = self._head_reads
        if reads is None:
            return lambda: self.app.recorder.max_notification_id() or 0
        sql: str = getattr(
            self.app.recorder, "select_max_notification_id_statement", HEAD_SQL
        )
        return lambda: reads.one(sql, ())[0] or 0

    def _default_remote(self) -> RemotePositions:
        def read(name: str) -> int:
            return self[name].recorded()

        postgres = self.backend == "postgres" and self.settings.database_url is not None
        if postgres and not self.project:  # a keeper never waits on others' positions
            return NotifiedRemotePositions(
                read, fallback_seconds=self.settings.read_model_poll_seconds
            )
        if self.backend == "sqlite":
            # Both sides: the keeper publishes and listens, the others wait and wake.
            return SharedPositions(self.settings.data_path)
        return PollingRemotePositions(read)

    def _build_view(self, definition: ReadModelDefinition, pool_size: int) -> Any:
        view_class = definition.view_class(self.backend)
        if self.backend == "memory":
            return in_memory_view(definition.name, view_class)
        factory = infrastructure(self.settings, definition.name, pool_size)
        self._factories.append(factory)
        with schema_lock(self.settings):
            view = factory.tracking_recorder(view_class)
            # Its keeper rebuilds a view whose columns are not this code's.
            outdated = getattr(view, "rebuild_if_outdated", None)
            if self.project and outdated is not None and outdated():
                log.warning(
                    "runtime.read_model_rebuilding", read_model=definition.name,
                    reason="tables of an older version",
                )  # fmt: skip
        return view

    # -- the models ------------------------------------------------------------------

    def __getitem__(self, name: str) -> HostedReadModel[Any]:
        try:
            return self._models[name]
        except KeyError:
            definition_of(name)  # raises, naming the known ones
            raise

    def __iter__(self) -> Iterator[HostedReadModel[Any]]:
        return iter(self._models.values())

    @property
    def names(self) -> list[str]:
        return list(self._models)

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        self.app.head_listeners.append(self.head.saved)
        for model in self:
            model.start_reading()
        if isinstance(self.remote, SharedPositions):
            self._share(self.remote)
        if self.project:
            for model in self:
                self.app.save_listeners.append(model.runner.wake_for)
                model.runner.start()
        else:
            self.remote.start()
        if self._listener is not None:
            self._listener.start()

    def _share(self, shared: SharedPositions) -> None:
        """Embedded: the keeper publishes positions and takes wake-ups; others wake it."""
        if self.project:
            for model in self:  # a rebuilt or restored view may be behind the file
                shared.reset(model.name, model.recorded())
            # A restored log may end before writes the record still counts.
            self.callers.clamp(self.head())
            shared.listen(self._woken)
        else:
            self.app.save_listeners.append(shared.announce)

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
        for model in self:
            model.runner.stop()
        self.remote.stop()
        for factory in self._factories:
            factory.close()
        if self._head_reads is not None:
            self._head_reads.close()
        self.callers.close()

    def _heard(self, topics: Sequence[str] | None) -> None:
        """Another process saved events (of `topics`; None: unknown)."""
        if self.project:
            # Every save moves every read model's position, followed topic or not:
            # readers in other processes wait for it, so each runner records it.
            for model in self:
                model.runner.wake_to_record(topics)
        for wake in self.also_wake:
            wake(topics)

    def _woken(self, topics: Collection[str] | None) -> None:
        """Embedded: another process stored events, or waits for some read models."""
        waited = waited_for(topics)
        if waited is not None:
            # Only those move: a reader waiting elsewhere says so (see
            # SharedPositions.wait), so the others write no skip-tracking rows.
            for name in waited:
                if name in self._models:
                    self._models[name].runner.wake()
            return
        # Unlike PostgreSQL's NOTIFY (`_heard`), a save wakes only the runners of its
        # topics: each wake of another costs an fsync'd SQLite commit.
        for model in self:
            if topics is None:
                model.runner.wake()
            else:
                model.runner.wake_for(topics)
        for wake in self.also_wake:
            wake(None if topics is None else list(topics))

    # -- waits -----------------------------------------------------------------------

    def catch_up(self, names: Sequence[str] | None = None) -> None:
        """Before a read of `names` (default: all): every event stored so far."""
        for name in names or self.names:
            self[name].catch_up()

    def settle(self, position: int, names: Sequence[str] | None = None) -> None:
        """After a write: the caller's next read of `names` (default: all) shows it."""
        for name in names or self.names:
            self[name].settle(position)

    # -- health ----------------------------------------------------------------------

    def probes(self) -> dict[str, Callable[[], object]]:
        """For /health: each view's check name, and a probe that fails if it is down."""
        return {model.definition.health_check: model.recorded for model in self}

    def runner_states(self) -> dict[str, str]:
        """For /health: each runner this process runs, "ok" or why not."""
        if not self.project:
            return {}
        return {model.runner.name: model.runner.state for model in self}

    def details(self, head: int) -> dict[str, object]:
        """For /health/details: each model's position and lag, parked and stuck events."""
        report: dict[str, object] = {}
        for model in self:
            recorded = model.recorded()
            report[f"{model.definition.details_prefix}_position"] = recorded
            report[f"{model.definition.details_prefix}_lag"] = positions.lag(
                head, recorded
            )
        report.update(
            parked.details(
                {m.name: (m.view, m.runner if self.project else None) for m in self}
            )
        )
        return report

    # -- rebuild ---------------------------------------------------------------------

    def rebuild(
        self, name: str, on_progress: Callable[[Progress], None] | None = None
    ) -> LiveRebuild:
        """The live rebuild of the read model called `name` (projections.rebuild)."""
        model = self[name]
        return LiveRebuild(
            name=name,
            view=model.view,
            recorder=self.app.recorder,
            mapper=self.app.mapper,
            topics=model.definition.topics,
            event_type=model.definition.event_type,
            upstream=self.app.name,
            on_progress=on_progress,
        )


def _log_runner_error(name: str, error: BaseException) -> None:
    log.warning("runner.error", runner=name, error=repr(error))
