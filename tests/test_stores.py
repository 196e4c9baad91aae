"""Contract suite of the event stores: SQLite on a real file, PostgreSQL on a real server."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postgres_support import PostgresServer
from store_support import event, stored_event
from trackcodec.event import TrackingEvent, new_event_id
from trackcodec.stores import (
    SCHEMA_VERSION,
    EventStore,
    PostgresEventStore,
    SQLiteEventStore,
    StoreUnavailable,
    open_store,
)

HOUR = 3600.0
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z

MakeStore = Callable[[], EventStore]


class Backend:
    """How to open one more store on the backend's test database."""

    def __init__(self, name: str, target: str) -> None:
        self.name = name
        self.target = target  # a file path or a DSN
        self.opened: list[EventStore] = []

    @property
    def postgres(self) -> bool:
        return self.name.startswith("postgres")

    def open(self) -> EventStore:
        store: EventStore
        if self.name == "sqlite":
            store = SQLiteEventStore(self.target)
        else:
            store = PostgresEventStore(self.target, insert=self.name.split("-")[1])  # type: ignore[arg-type]
        self.opened.append(store)
        return store


@pytest.fixture(params=["sqlite", "postgres-executemany", "postgres-copy"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        b = Backend("sqlite", str(tmp_path / "events.sqlite3"))
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        b = Backend(request.param, server.fresh_dsn())
    yield b
    for store in b.opened:
        store.close()


@pytest.fixture
def store(backend: Backend) -> EventStore:
    return backend.open()


def test_empty_store(store: EventStore) -> None:
    assert store.count() == 0
    assert list(store.events()) == []
    stats = store.stats()
    assert stats.rows == []
    assert stats.totals.opens == stats.totals.clicks == 0
    assert stats.top_links == []


def test_emitted_events_read_back_in_time_order(store: EventStore) -> None:
    events = [event(timestamp=T0 + i, metadata={"n": i}) for i in (3, 1, 2, 0)]
    store.emit(events)
    assert list(store.events()) == sorted(events, key=lambda e: e.timestamp)
    assert store.count() == 4


def test_same_timestamp_sorted_by_id(store: EventStore) -> None:
    events = [event(timestamp=T0) for _ in range(5)]
    store.emit(list(reversed(events)))
    assert [e.id for e in store.events()] == sorted(e.id for e in events)


def test_emit_is_idempotent_on_event_id(backend: Backend, store: EventStore) -> None:
    a, b = event(), event(kind="click", tracked_url="https://example.com/")
    store.emit([a])
    store.emit([a, b, b])  # a retried batch, and a duplicate within a batch
    backend.open().emit([a, b])  # another connection / process
    assert store.count() == 2
    assert sorted(e.id for e in store.events()) == sorted([a.id, b.id])


def test_a_batch_is_stored_whole_or_not_at_all(store: EventStore) -> None:
    good = event()
    bad = TrackingEvent.model_construct(**{**event().model_dump(), "kind": "bogus"})
    with pytest.raises(Exception, match=r"(?i)check"):
        store.emit([good, bad])
    assert store.count() == 0
    store.emit([good])  # the store still works after the failed transaction
    assert list(store.events()) == [good]


def test_big_batches_with_duplicates_and_a_bad_row(store: EventStore) -> None:
    # The SQLite store inserts in multi-row statements of 64 rows: cross the chunk edges.
    events = [event(timestamp=T0 + i, metadata={"n": i}) for i in range(150)]
    store.emit([*events[:100], events[64], events[0]])
    store.emit(events)
    assert list(store.events()) == events
    bad = TrackingEvent.model_construct(**{**event().model_dump(), "kind": "bogus"})
    fresh = [event(timestamp=T0 + 1000 + i) for i in range(130)]
    with pytest.raises(Exception, match=r"(?i)check"):
        store.emit([*fresh, bad])  # the bad row sits in the third chunk
    assert store.count() == 150


def test_empty_emit_does_nothing(store: EventStore) -> None:
    store.emit([])
    assert store.count() == 0


def test_filters(store: EventStore) -> None:
    events = [event(kind="click" if i % 2 else "open", timestamp=T0 + i * HOUR) for i in range(6)]
    store.emit(events)
    assert list(store.events(since=T0 + 2 * HOUR)) == events[2:]
    assert list(store.events(until=T0 + 2 * HOUR)) == events[:2]  # until is exclusive
    assert list(store.events(since=T0 + HOUR, until=T0 + 4 * HOUR, kind="open")) == [events[2]]
    assert list(store.events(kind="click", limit=2)) == [events[1], events[3]]
    assert list(store.events(limit=0)) == []
    assert store.count(kind="open") == 3
    assert store.count(since=T0 + 5 * HOUR) == 1
    assert store.count(since=T0, until=T0 + 4 * HOUR, kind="click") == 2


@pytest.mark.parametrize(
    "kwargs", [{"kind": "view"}, {"limit": -1}], ids=["bad-kind", "negative-limit"]
)
def test_bad_read_arguments_are_value_errors(store: EventStore, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"kind|limit"):
        list(store.events(**kwargs))


def test_bad_stats_arguments_are_value_errors(store: EventStore) -> None:
    with pytest.raises(ValueError, match="bucket"):
        store.stats(bucket="week")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="top_links"):
        store.stats(top_links=-1)


def test_events_stream_lazily_and_survive_writes(store: EventStore) -> None:
    store.emit([event(timestamp=T0 + i) for i in range(1200)])
    iterator = store.events()
    first = next(iterator)
    store.emit([event(timestamp=T0 + 5000)])  # a writer is not blocked by an open export
    rest = list(iterator)
    assert first.timestamp == T0
    assert len(rest) == 1199  # one snapshot, taken when reading started
    assert store.count() == 1201


def _stats_events() -> list[TrackingEvent]:
    """Two hours of a campaign "a" and one hour of "b": counts are checked below."""
    alice = {"campaign": "a", "customer": "alice"}
    bob = {"campaign": "a", "customer": "bob"}
    carol = {"campaign": "b", "customer": "carol"}
    peer = {"client_ip": "192.0.2.1", "user_agent": "Mail/1"}
    other = {"client_ip": "192.0.2.2", "user_agent": "Mail/1"}
    return [
        # hour 0
        event(timestamp=T0 + 10, metadata=alice, **peer),
        event(timestamp=T0 + 20, metadata=alice, **peer),  # a second open by alice
        event(timestamp=T0 + 30, metadata=bob, **peer),  # same peer, another customer
        event(timestamp=T0 + 40, metadata=bob, likely="machine", machine_reason="proxy", **other),
        event(kind="click", timestamp=T0 + 50, metadata=alice, tracked_url="https://x/1", **peer),
        event(kind="click", timestamp=T0 + 60, metadata=bob, tracked_url="https://x/1", **other),
        # hour 1
        event(timestamp=T0 + HOUR + 1, metadata=carol, **other),
        event(
            kind="click",
            timestamp=T0 + HOUR + 2,
            metadata=carol,
            tracked_url="https://x/2",
            **other,
        ),
        event(
            kind="click",
            timestamp=T0 + HOUR + 3,
            metadata=alice,
            tracked_url="https://x/1",
            likely="machine",
            machine_reason="link-scanner",
            **peer,
        ),
        # an event without the metadata keys
        event(timestamp=T0 + HOUR + 4, metadata={}, **other),
    ]


def test_stats_per_hour_unique_by_customer(store: EventStore) -> None:
    store.emit(_stats_events())
    stats = store.stats(bucket="hour", unique_by_metadata_key="customer")
    assert stats.bucket == "hour"
    assert [(r.start, r.group) for r in stats.rows] == [(T0, None), (T0 + HOUR, None)]
    h0, h1 = (r.counts for r in stats.rows)
    assert (h0.opens, h0.clicks, h0.unique_opens, h0.unique_clicks) == (4, 2, 2, 2)
    assert (h0.machine_opens, h0.machine_clicks, h0.human_opens, h0.human_clicks) == (1, 0, 3, 2)
    # carol, and the event without a customer counted by its peer
    assert (h1.opens, h1.clicks, h1.unique_opens, h1.unique_clicks) == (2, 2, 2, 2)
    assert (h1.machine_opens, h1.machine_clicks) == (0, 1)
    t = stats.totals
    assert (t.opens, t.clicks, t.unique_opens, t.unique_clicks) == (6, 4, 4, 3)
    assert [(x.url, x.clicks, x.unique_clicks) for x in stats.top_links] == [
        ("https://x/1", 3, 2),
        ("https://x/2", 1, 1),
    ]


def test_stats_unique_by_peer_when_no_key(store: EventStore) -> None:
    store.emit(_stats_events())
    stats = store.stats(bucket="day")
    assert [r.start for r in stats.rows] == [T0]
    (day,) = stats.rows
    assert (day.counts.unique_opens, day.counts.unique_clicks) == (2, 2)  # two peers
    assert stats.top_links[0].unique_clicks == 2


def test_stats_grouped_by_campaign_in_a_range(store: EventStore) -> None:
    store.emit(_stats_events())
    stats = store.stats(
        since=T0 + HOUR,
        until=T0 + 2 * HOUR,
        group_by_metadata_key="campaign",
        unique_by_metadata_key="customer",
        top_links=1,
    )
    assert [(r.start, r.group, r.counts.opens, r.counts.clicks) for r in stats.rows] == [
        (T0 + HOUR, None, 1, 0),
        (T0 + HOUR, "a", 0, 1),
        (T0 + HOUR, "b", 1, 1),
    ] or [(r.start, r.group, r.counts.opens, r.counts.clicks) for r in stats.rows] == [
        (T0 + HOUR, "a", 0, 1),
        (T0 + HOUR, "b", 1, 1),
        (T0 + HOUR, None, 1, 0),
    ]  # where NULL sorts is the database's choice
    assert (stats.since, stats.until) == (T0 + HOUR, T0 + 2 * HOUR)
    assert [x.url for x in stats.top_links] == ["https://x/1"]


def test_group_values_are_text(store: EventStore) -> None:
    store.emit([event(metadata={"n": 7}), event(metadata={"n": "7"}), event(metadata={"n": 1.5})])
    groups = sorted(r.group or "" for r in store.stats(group_by_metadata_key="n").rows)
    assert groups == ["1.5", "7"]


def test_ping_and_close(backend: Backend) -> None:
    store = backend.open()
    store.ping()
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreUnavailable):
        store.ping()
    with pytest.raises(StoreUnavailable):
        store.emit([event()])


def test_migrate_is_idempotent_and_shared(backend: Backend) -> None:
    first = backend.open()
    assert first.migrate() == SCHEMA_VERSION
    assert first.migrate() == SCHEMA_VERSION
    second = backend.open()  # opening migrates again: nothing to do
    e = event()
    second.emit([e])
    assert list(first.events()) == [e]


def test_concurrent_first_migrations(backend: Backend) -> None:
    # Several nodes start at once on an empty database: one creates the schema, the
    # others wait for it (advisory lock / BEGIN IMMEDIATE) and find nothing to do.
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []
    opened: list[EventStore] = []

    def start() -> None:
        try:
            if backend.postgres:
                store: EventStore = PostgresEventStore(backend.target, migrate=False)
                opened.append(store)
                barrier.wait(30)
                store.migrate()
            else:
                barrier.wait(30)
                opened.append(SQLiteEventStore(backend.target))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    backend.opened += opened
    assert errors == []
    assert len(opened) == 4
    opened[0].emit([event()])
    assert all(store.count() == 1 for store in opened)


def test_newer_schema_is_refused(backend: Backend) -> None:
    store = backend.open()
    if backend.postgres:
        import psycopg

        with psycopg.connect(backend.target, autocommit=True) as conn:
            conn.execute("UPDATE trackcodec_schema SET version = 99")
    else:
        import sqlite3

        with sqlite3.connect(backend.target) as conn:
            conn.execute("UPDATE trackcodec_schema SET version = 99")
        conn.close()
    with pytest.raises(StoreUnavailable, match="99"):
        store.migrate()
    with pytest.raises(StoreUnavailable, match="upgrade trackcodec"):
        backend.open()


# -- round trip ----------------------------------------------------------------------------

_json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=True, allow_infinity=True).filter(
        lambda f: f == 0 or abs(f) < 1e15 or not math.isfinite(f)
    )
    | st.text(max_size=20)
)
_metadata = st.dictionaries(
    st.text(max_size=10),
    st.recursive(
        _json_leaf,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=8,
    ),
    max_size=5,
)
_optional_text = st.none() | st.text(max_size=40)
_events = st.builds(
    TrackingEvent,
    id=st.just("").map(lambda _: new_event_id()),
    kind=st.sampled_from(["open", "click"]),
    timestamp=st.floats(min_value=0, max_value=4e9, allow_nan=False),
    tracked_url=_optional_text,
    metadata=_metadata,
    webhook_url=_optional_text,
    issued_at=st.none() | st.integers(min_value=0, max_value=2**32 - 1),
    key_id=st.none() | st.integers(min_value=0, max_value=255),
    authenticated=st.booleans(),
    legacy=st.booleans(),
    client_ip=_optional_text,
    user_agent=_optional_text,
    method=st.sampled_from(["GET", "HEAD"]),
    likely=st.sampled_from(["human", "machine"]),
    machine_reason=_optional_text,
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(_events, min_size=1, max_size=4))
def test_round_trip(backend: Backend, store: EventStore, batch: list[TrackingEvent]) -> None:
    store.emit(batch)
    ids = {e.id for e in batch}
    back = {e.id: e for e in store.events() if e.id in ids}
    for e in batch:
        expected = stored_event(e, postgres=backend.postgres)
        assert back[e.id] == expected
        assert back[e.id].metadata == expected.metadata


# -- several processes -----------------------------------------------------------------------

_WRITER = textwrap.dedent(
    """
    import json, sys
    from trackcodec.event import TrackingEvent
    from trackcodec.stores import open_store

    target, path = sys.argv[1], sys.argv[2]
    events = [TrackingEvent.model_validate(e) for e in json.load(open(path))]
    store = open_store(target)
    for i in range(0, len(events), 7):
        store.emit(events[i : i + 7])
    store.close()
    """
)


def test_two_processes_write_without_loss_or_duplicates(backend: Backend, tmp_path: Path) -> None:
    # Both start on a database without tables: the two migrations race too.
    target = backend.target
    shared = [event(timestamp=T0 + i) for i in range(100)]
    own = [[event(timestamp=T0 + 1000 + i) for i in range(150)] for _ in range(2)]
    procs = []
    for n in range(2):
        batch = shared + own[n] if n == 0 else own[n] + list(reversed(shared))
        path = tmp_path / f"batch{n}.json"
        path.write_text("[" + ",".join(e.model_dump_json() for e in batch) + "]")
        procs.append(
            subprocess.Popen(  # noqa: S603 - this interpreter, our script
                [sys.executable, "-c", _WRITER, target, str(path)], stderr=subprocess.PIPE
            )
        )
    errors = [proc.communicate(timeout=120)[1].decode() for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], errors
    store = backend.open()
    stored = [e.id for e in store.events()]
    assert len(stored) == len(set(stored)) == 400
    assert set(stored) == {e.id for e in shared + own[0] + own[1]}


# -- open_store ------------------------------------------------------------------------------


def test_open_store_sqlite_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for database, file in [
        ("", "trackcodec-events.sqlite3"),
        ("sqlite:///rel.db", "rel.db"),
        (f"sqlite:///{tmp_path}/abs.db", "abs.db"),
        ("plain.db", "plain.db"),
    ]:
        store = open_store(database)
        try:
            assert isinstance(store, SQLiteEventStore)
            assert (tmp_path / file).exists()
        finally:
            store.close()
    with pytest.raises(ValueError, match="sqlite:///path"):
        open_store("sqlite://host/x")
    with pytest.raises(ValueError, match="file path"):
        SQLiteEventStore(":memory:")


def test_open_store_postgres(postgres_server: PostgresServer) -> None:
    store = open_store(postgres_server.fresh_dsn())
    try:
        assert isinstance(store, PostgresEventStore)
        store.ping()
    finally:
        store.close()


def test_postgres_reconnects_and_resends_after_the_connection_breaks(
    postgres_server: PostgresServer,
) -> None:
    import psycopg

    store = PostgresEventStore(postgres_server.fresh_dsn())
    try:
        store.emit([event()])
        with psycopg.connect(postgres_server.dsn, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'trackcodec' AND pid <> pg_backend_pid()"
            )
        store.emit([event()])  # noticed the broken connection, sent again on a new one
        store.ping()
        assert store.count() == 2
    finally:
        store.close()


def test_postgres_auto_insert_uses_copy_for_big_batches(postgres_server: PostgresServer) -> None:
    from trackcodec.stores.postgres import COPY_FROM

    store = PostgresEventStore(postgres_server.fresh_dsn())  # insert="auto"
    try:
        small = [event(timestamp=T0 + i) for i in range(3)]
        big = [event(timestamp=T0 + 10 + i) for i in range(COPY_FROM)]
        store.emit(small)
        assert not store._staging  # executemany
        store.emit(big + small)  # duplicates of committed events, through COPY
        assert store._staging
        assert list(store.events()) == small + big
    finally:
        store.close()
    with pytest.raises(ValueError, match="insert must be"):
        PostgresEventStore(postgres_server.dsn, insert="fast")  # type: ignore[arg-type]


def test_stores_import_no_extra() -> None:
    code = (
        "import sys, trackcodec, trackcodec.stores\n"
        "assert 'psycopg' not in sys.modules, 'psycopg imported'\n"
        "assert 'click' not in sys.modules, 'click imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603 - our code


def test_postgres_store_without_psycopg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from trackcodec.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingDependencyError, match=r"trackcodec\[postgres\]"):
        PostgresEventStore("postgresql://127.0.0.1:1/x")
    with pytest.raises(MissingDependencyError, match=r"trackcodec\[postgres\]"):
        open_store("postgresql://127.0.0.1:1/x")


def test_overlapping_batches_in_opposite_orders_do_not_deadlock(backend: Backend) -> None:
    # Two writers insert the same ids in opposite orders at once (a retried batch on
    # another node, say). Unordered, PostgreSQL's unique-index locks deadlock them.
    shared = [event(timestamp=T0 + i) for i in range(300)]
    stores = [backend.open(), backend.open()]
    errors: list[Exception] = []
    start = threading.Barrier(2)

    def write(store: EventStore, batch: list[TrackingEvent]) -> None:
        start.wait()
        try:
            for _ in range(5):
                store.emit(batch)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=write, args=(stores[0], shared)),
        threading.Thread(target=write, args=(stores[1], list(reversed(shared)))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()
    assert errors == []
    assert backend.open().count() == 300
