"""The contract between projections.store_internals and the pinned eventsourcing.

Jobstream relies on a few private names and undocumented behaviours of eventsourcing
9.5 (docs/decisions/004-eventsourcing-internals.md). Each test here names one of
them; after an upgrade, a failure says which internal changed and where it is used.
Signatures are checked without a database; behaviour on SQLite and PostgreSQL.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import re
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import psycopg
import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresTrackingRecorder,
)
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteTrackingRecorder,
)
from eventsourcing.utils import get_topic

from domain.batch_jobs import BatchJob
from domain.catalog.claims import Claim
from projections import swap
from projections.store_internals import (
    TRACKING_MIGRATION_MARK,
    UnpipelinedApplicationRecorder,
    insert_stored_events,
    insert_tracking,
    lock_events_table,
    notification_id_of,
    tracking_migration_leftover,
)
from projections.tracking_mark import restore_mark
from service.bootstrap.stores import build_app, infrastructure
from service.event_store import UnpipelinedPostgresRecorder
from tests.conftest import make_settings

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from eventsourcing.persistence import InfrastructureFactory, Recording

    from service.application import Jobstream
    from service.settings import Settings

VERSION = importlib.metadata.version("eventsourcing")
ROOT = Path(__file__).resolve().parents[2]
ADAPTER = Path("projections/store_internals.py")
POSITIONAL = inspect.Parameter.POSITIONAL_OR_KEYWORD
VAR_KEYWORD = inspect.Parameter.VAR_KEYWORD

SELF = ("self", POSITIONAL)
KWARGS = ("**", VAR_KEYWORD)
CURSOR_EVENTS = [SELF, ("curs", POSITIONAL), ("stored_events", POSITIONAL), KWARGS]

# (class, private name, its parameters as (name, kind); `**` by kind only)
SIGNATURES: list[tuple[type[Any], str, list[tuple[str, Any]]]] = [
    (PostgresApplicationRecorder, "_lock_table", [SELF, ("curs", POSITIONAL)]),
    (PostgresApplicationRecorder, "_insert_events", CURSOR_EVENTS),
    (PostgresApplicationRecorder, "_insert_stored_events", CURSOR_EVENTS),
    (PostgresApplicationRecorder, "insert_events",
     [SELF, ("stored_events", POSITIONAL), KWARGS]),
    (SQLiteApplicationRecorder, "_insert_events",
     [SELF, ("c", POSITIONAL), ("stored_events", POSITIONAL), KWARGS]),
    (PostgresTrackingRecorder, "_insert_tracking",
     [SELF, ("curs", POSITIONAL), ("tracking", POSITIONAL)]),
    (SQLiteTrackingRecorder, "_insert_tracking",
     [SELF, ("c", POSITIONAL), ("tracking", POSITIONAL)]),
    (Application, "_notify", [SELF, ("recordings", POSITIONAL)]),
    (SQLiteConnectionPool, "_create_connection", [SELF]),
]  # fmt: skip


def internal(owner: type[Any], name: str) -> str:
    return f"eventsourcing {VERSION}: {owner.__module__}.{owner.__qualname__}.{name}"


def shape(owner: type[Any], name: str) -> list[tuple[str, Any]]:
    method = owner.__dict__.get(name)
    assert method is not None, (
        f"{internal(owner, name)} is gone (projections/store_internals.py relies on it)"
    )
    return [
        ("**" if p.kind is VAR_KEYWORD else p.name, p.kind)
        for p in inspect.signature(method).parameters.values()
    ]


@pytest.mark.parametrize(
    ("owner", "name", "expected"),
    SIGNATURES,
    ids=[f"{owner.__name__}.{name}" for owner, name, _ in SIGNATURES],
)
def test_the_private_methods_relied_on_keep_their_signatures(
    owner: type[Any], name: str, expected: list[tuple[str, Any]]
) -> None:
    assert shape(owner, name) == expected, (
        f"{internal(owner, name)} changed its signature: "
        f"{inspect.signature(owner.__dict__[name])}; "
        "update projections/store_internals.py and this contract"
    )


def test_the_adapter_overrides_exactly_the_hooks_it_means_to() -> None:
    # The parent's insert must still route through the hooks our recorder overrides.
    parent = inspect.getsource(PostgresApplicationRecorder.insert_events)
    for hook in ("_insert_events", "_insert_stored_events"):
        assert f"self.{hook}(" in parent, (
            f"{internal(PostgresApplicationRecorder, 'insert_events')} no longer calls "
            f"{hook}: UnpipelinedApplicationRecorder copies its steps"
        )
    # The parent's per-save lock and NOTIFY are the two steps our override replaces.
    steps = inspect.getsource(PostgresApplicationRecorder._insert_stored_events)
    for step in ("self._lock_table(curs)", "self._notify_channel(curs)"):
        assert step in steps, (
            f"{internal(PostgresApplicationRecorder, '_insert_stored_events')} "
            f"no longer does {step}: UnpipelinedApplicationRecorder re-does the rest"
        )
    # Our lock sends the parent's statements as one query: still these two.
    lock_source = inspect.getsource(PostgresApplicationRecorder.__init__)
    for statement in ("SET LOCAL lock_timeout", "LOCK TABLE {0}.{1} IN EXCLUSIVE MODE"):
        assert statement in lock_source, (
            f"{internal(PostgresApplicationRecorder, 'lock_table_statements')} "
            f"no longer holds {statement!r}: UnpipelinedApplicationRecorder sends them"
        )
    save = inspect.getsource(Application.save)
    assert "self._notify(recordings)" in save, (
        f"{internal(Application, 'save')} no longer calls _notify(recordings): "
        "SaveHookApplication.saved would never run and no runner would wake"
    )
    assert issubclass(UnpipelinedPostgresRecorder, UnpipelinedApplicationRecorder)


def private_names() -> set[str]:
    """The private names of the eventsourcing classes Jobstream builds on."""
    owners: list[type[Any]] = [
        Application, PostgresApplicationRecorder, PostgresTrackingRecorder,
        SQLiteApplicationRecorder, SQLiteTrackingRecorder, SQLiteConnectionPool,
    ]  # fmt: skip
    return {
        name
        for owner in owners
        for name in dir(owner)
        if name.startswith("_") and not name.startswith("__") and name != "_abc_impl"
    }


# Jobstream's own names that happen to match one (not on an eventsourcing subclass).
OWN_NAMES = {(Path("service/messaging/relay.py"), "_record")}


def test_only_the_adapter_touches_eventsourcing_private_names() -> None:
    names = "|".join(sorted(map(re.escape, private_names())))
    # A call or read of one (on any object), or a method that overrides one.
    use = re.compile(rf"(?:\.|^\s+def )({names})\b")
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for package in ("service", "projections", "domain")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.relative_to(ROOT) != ADAPTER
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if (match := use.search(line))
        and (path.relative_to(ROOT), match.group(1)) not in OWN_NAMES
    ]
    assert found == [], (
        "eventsourcing's private names used outside projections/store_internals.py "
        "(add what is needed to the adapter and to this contract):\n" + "\n".join(found)
    )


# -- behaviour on SQLite -------------------------------------------------------


@pytest.mark.parametrize(("mode", "pragma_value"), [("full", 2), ("normal", 1)])
def test_each_pooled_sqlite_connection_takes_the_stores_synchronous_mode(
    tmp_path: Path, mode: str, pragma_value: int
) -> None:
    settings = msgspec.structs.replace(make_settings(tmp_path), sqlite_synchronous=mode)
    event_log = build_app(settings)
    read_model = infrastructure(settings, "batchjobs", pool_size=2)
    try:
        for datastore, expected in (
            (event_log.recorder.datastore, pragma_value),  # type: ignore[attr-defined]
            (read_model.datastore, 1),  # type: ignore[attr-defined]  # derived: NORMAL
        ):
            # Two connections at once: the pool opens a second one, which must
            # take the pragma too.
            with (
                datastore.get_connection(commit=False) as first,
                datastore.get_connection(commit=False) as second,
            ):
                for connection in (first, second):
                    assert isinstance(connection, SQLiteConnection)
                    with connection.transaction(commit=False) as curs:
                        curs.execute("PRAGMA synchronous")
                        found = curs.fetchone()[0]
                    assert found == expected, (
                        f"{internal(SQLiteConnectionPool, '_create_connection')}: a "
                        f"pooled connection has synchronous={found}, not {expected}"
                    )
    finally:
        event_log.close()
        read_model.close()


# -- behaviour on both backends ----------------------------------------------


def stored(*topics: str) -> list[StoredEvent]:
    return [
        StoredEvent(
            originator_id=f"contract-{uuid.uuid4().hex}",
            originator_version=1,
            topic=topic,
            state=b"{}",
        )
        for topic in topics
    ]


@pytest.fixture
def app(settings: Settings) -> Iterator[Jobstream]:
    app = build_app(settings)
    try:
        yield app
    finally:
        app.close()


def test_inserting_returns_the_notification_ids_in_order(app: Jobstream) -> None:
    events = stored("t.a", "t.b", "t.c")
    recorder = app.recorder
    if isinstance(recorder, SQLiteApplicationRecorder):
        with recorder.datastore.transaction(commit=True) as curs:
            ids = insert_stored_events(recorder, curs, events)
        used = internal(SQLiteApplicationRecorder, "_insert_events")
    else:
        assert isinstance(recorder, UnpipelinedPostgresRecorder), type(recorder)
        ids = list(recorder.insert_events(events) or [])
        used = "UnpipelinedApplicationRecorder.insert_events"

    notifications = recorder.select_notifications(ids[0], limit=10) if ids else []
    found = [(n.id, n.originator_id) for n in notifications]
    assert found == [(i, e.originator_id) for i, e in zip(ids, events, strict=False)], (
        f"{used}: the ids returned are not the inserted events' positions in order"
    )
    assert len(ids) == len(events), f"{used} returned {ids} for {len(events)} events"


def test_a_stored_events_position_is_found_by_its_key(app: Jobstream) -> None:
    job = BatchJob.create(
        batch_type="product-export", created_by="usr_1", context={}, dry_run=True,
        actor="usr_1",
    )  # fmt: skip
    job.set_pre_processing_done("usr_1")
    before = app.recorder.max_notification_id() or 0
    app.save(job)
    log = app.recorder.select_notifications(before, limit=10, inclusive_of_start=False)
    positions = {(n.originator_id, n.originator_version): n.id for n in log}

    for version in (1, 2):
        assert (
            notification_id_of(app.recorder, job.id, version)
            == positions[job.id, version]
        ), f"version {version}: not the log's position for it"
    assert notification_id_of(app.recorder, job.id, 3) is None
    assert notification_id_of(app.recorder, "batch_none", 1) is None


def test_a_version_stored_already_refuses_the_whole_insert(app: Jobstream) -> None:
    (first,) = stored("t.a")
    again = StoredEvent(first.originator_id, 1, "t.b", b'{"again": true}')
    other = stored("t.c")[0]
    recorder = app.recorder
    recorder.insert_events([first])

    with pytest.raises(IntegrityError):
        recorder.insert_events([other, again])

    kept = recorder.select_events(first.originator_id)
    assert [(e.topic, e.state) for e in kept] == [("t.a", b"{}")]
    assert list(recorder.select_events(other.originator_id)) == []


def test_the_save_hook_gets_each_saves_recordings(
    app: Jobstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[list[Recording[str]], int, threading.Thread]] = []

    def saved(recordings: Sequence[Recording[str]]) -> None:
        head = app.recorder.max_notification_id() or 0
        seen.append((list(recordings), head, threading.current_thread()))

    monkeypatch.setattr(app, "saved", saved)
    job = BatchJob.create(
        batch_type="t", created_by="usr_1", context={}, dry_run=True, actor="usr_1"
    )
    recordings = app.save(job, Claim.take("contract:one", "owner", "usr_1"))

    hook = internal(Application, "_notify")
    assert len(seen) == 1, f"{hook} ran {len(seen)} times for one save"
    got, head, thread = seen[0]
    assert got == recordings, f"{hook} did not get the save's recordings"
    assert [r.notification.topic for r in got] == [
        get_topic(BatchJob.Created),
        get_topic(Claim.Created),
    ], f"{hook}: the recordings' notifications lack their topics"
    assert head >= got[-1].notification.id, f"{hook} ran before the events were stored"
    assert thread is threading.current_thread(), f"{hook} ran in another thread"


# -- tracking: the layout and migration mark projections rely on --------------


def columns(curs: Any, table: str, *, postgres: bool) -> list[tuple[str, str, bool]]:
    """(name, type, in the primary key) of each column, in order."""
    if postgres:
        curs.execute(
            "SELECT c.column_name AS name, c.data_type AS type, EXISTS ("
            " SELECT 1 FROM pg_index i JOIN pg_attribute a"
            " ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
            " WHERE i.indrelid = to_regclass(c.table_name) AND i.indisprimary"
            " AND a.attname = c.column_name) AS pk "
            "FROM information_schema.columns c "
            "WHERE c.table_schema = current_schema() AND c.table_name = %s "
            "ORDER BY c.ordinal_position",
            [table],
        )
    else:
        curs.execute(
            "SELECT name, type, pk > 0 AS pk FROM pragma_table_info(?) ORDER BY cid",
            [table],
        )
    return [(r["name"], r["type"].lower(), bool(r["pk"])) for r in curs.fetchall()]


@pytest.fixture
def tracking(settings: Settings) -> Iterator[tuple[Any, InfrastructureFactory[Any]]]:
    """A fresh tracking recorder of its own (its own table, or SQLite file)."""
    factory = infrastructure(settings, f"contract{uuid.uuid4().hex[:8]}", 1)
    recorder = factory.tracking_recorder()
    try:
        yield recorder, factory
    finally:
        if isinstance(recorder, PostgresTrackingRecorder):
            with recorder.datastore.transaction(commit=True) as curs:
                for table in (recorder.tracking_table_name, "contract_shadow"):
                    curs.execute(f"DROP TABLE IF EXISTS {table}")
        factory.close()


def test_tracking_tables_have_the_layout_and_mark_projections_copy(
    tracking: tuple[Any, InfrastructureFactory[Any]],
) -> None:
    recorder, _ = tracking
    postgres = isinstance(recorder, PostgresTrackingRecorder)
    table = recorder.tracking_table_name if postgres else "tracking"
    where = f"eventsourcing {VERSION} {type(recorder).__name__}"
    assert recorder.table_migration_identifier == TRACKING_MIGRATION_MARK, (
        f"{where}.table_migration_identifier changed: projections.tracking_mark "
        "writes TRACKING_MIGRATION_MARK"
    )
    with recorder.datastore.transaction(commit=True) as curs:
        library = columns(curs, table, postgres=postgres)
        # projections.swap builds a shadow's tracking table by hand: the same layout.
        curs.execute(swap.tracking_ddl("contract_shadow", postgres=postgres))
        ours = columns(curs, "contract_shadow", postgres=postgres)
    assert library == ours, (
        f"{where}'s tracking table is {library}; projections.swap.tracking_ddl "
        f"builds {ours}"
    )
    assert recorder.max_tracking_id(TRACKING_MIGRATION_MARK) == 1, (
        f"{where} no longer writes the {TRACKING_MIGRATION_MARK} row at creation"
    )


def test_tracking_is_written_in_the_callers_transaction_and_never_back(
    tracking: tuple[Any, InfrastructureFactory[Any]],
) -> None:
    recorder, _ = tracking
    where = internal(type(recorder), "_insert_tracking")
    with recorder.datastore.transaction(commit=False) as curs:
        insert_tracking(recorder, curs, Tracking("upstream", 7))
        # Not committed: rolled back with the caller's transaction.
    assert recorder.max_tracking_id("upstream") is None, f"{where} committed on its own"
    with recorder.datastore.transaction(commit=True) as curs:
        insert_tracking(recorder, curs, Tracking("upstream", 7))
    assert recorder.max_tracking_id("upstream") == 7, f"{where} did not record"
    with (
        pytest.raises(IntegrityError),
        recorder.datastore.transaction(commit=True) as curs,
    ):
        insert_tracking(recorder, curs, Tracking("upstream", 3))
    assert recorder.max_tracking_id("upstream") == 7, f"{where} moved a position back"


def test_a_tracking_table_without_the_mark_is_migrated_to_the_leftover_name(
    tmp_path: Path,
) -> None:
    """What projections.tracking_mark guards against (SQLite: the rename succeeds)."""
    settings = make_settings(tmp_path)
    factory = infrastructure(settings, "marked", 1)
    recorder = factory.tracking_recorder()
    try:
        with recorder.datastore.transaction(commit=True) as curs:
            curs.execute(
                "DELETE FROM tracking WHERE application_name = ?",
                [TRACKING_MIGRATION_MARK],
            )
            curs.execute("INSERT INTO tracking VALUES ('upstream', 4)")
        factory.tracking_recorder()  # the next start
        with recorder.datastore.transaction(commit=False) as curs:
            leftover = tracking_migration_leftover("tracking", postgres=False)
            curs.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
                [leftover],
            )
            assert curs.fetchone() is not None, (
                f"eventsourcing {VERSION} SQLiteTrackingRecorder no longer renames an "
                f"unmarked tracking table to {leftover}: update "
                "projections.store_internals.tracking_migration_leftover"
            )
            # And the mark, once restored, stops the migration.
            curs.execute(f"DROP TABLE {leftover}")
        with recorder.datastore.transaction(commit=True) as curs:
            restore_mark(curs, "tracking", postgres=False)
        factory.tracking_recorder()
        with recorder.datastore.transaction(commit=False) as curs:
            curs.execute("SELECT name FROM sqlite_master WHERE name LIKE 'old%'")
            assert curs.fetchall() == [], "a marked tracking table was migrated"
        assert recorder.max_tracking_id("upstream") == 4
    finally:
        factory.close()


# -- PostgreSQL: the events table's lock and the NOTIFY ------------------------


@pytest.mark.integration
def test_the_events_lock_is_exclusive_on_the_events_table(
    postgres_url: str, tmp_path: Path
) -> None:
    app = build_app(make_settings(tmp_path, postgres_url))
    try:
        recorder = app.recorder
        assert isinstance(recorder, PostgresApplicationRecorder)
        where = internal(PostgresApplicationRecorder, "_lock_table")
        with recorder.datastore.transaction(commit=False) as curs:
            lock_events_table(recorder, curs)
            curs.execute(
                "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() "
                "AND relation = to_regclass(%s)",
                [f"{recorder.datastore.schema}.{recorder.events_table_name}"],
            )
            modes = {row["mode"] for row in curs.fetchall()}
        assert modes == {"ExclusiveLock"}, (
            f"{where} takes {modes or 'no lock'} on {recorder.events_table_name}, "
            "not EXCLUSIVE: ids could commit out of order (service.bulk_store)"
        )
    finally:
        app.close()


@pytest.mark.integration
def test_a_save_sends_one_notify_naming_its_topics(
    postgres_url: str, tmp_path: Path
) -> None:
    app = build_app(make_settings(tmp_path, postgres_url))
    try:
        recorder = app.recorder
        assert isinstance(recorder, PostgresApplicationRecorder)
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"LISTEN {recorder.channel_name}")
            ids = recorder.insert_events(stored("t.b", "t.a", "t.b")) or []
            # Every NOTIFY the save sent (at its commit), and any duplicate.
            payloads = [n.payload for n in conn.notifies(timeout=0.5)]
        # The save's last position, then its topics (service.event_store).
        assert payloads == [f"{ids[-1]}@t.a,t.b"], (
            f"{internal(PostgresApplicationRecorder, '_insert_stored_events')}: a save "
            f"sent {payloads} on {recorder.channel_name}, not one NOTIFY naming its topics"
        )
    finally:
        app.close()
