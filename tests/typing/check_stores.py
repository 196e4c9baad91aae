"""Type-checked (not run) usage of `trackcodec.stores`: `mypy --strict` keeps it green."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import Future

from typing_extensions import assert_type

from trackcodec.event import EventSink, TrackingEvent
from trackcodec.stores import (
    BatchingSink,
    CallableSink,
    Counts,
    EventStore,
    PostgresEventStore,
    SinkOverloaded,
    SQLiteEventStore,
    Stats,
    StoreUnavailable,
    open_store,
)


def stores_are_event_stores(path: str, dsn: str) -> None:
    sqlite_store: EventStore = SQLiteEventStore(path, synchronous="NORMAL")
    postgres_store: EventStore = PostgresEventStore(dsn, insert="copy")
    assert_type(open_store(path), EventStore)
    sinks: list[EventSink] = [sqlite_store, postgres_store, CallableSink(print)]
    assert sinks


def read_side(store: EventStore) -> bool:
    assert_type(store.events(since=0.0, kind="open", limit=10), Iterator[TrackingEvent])
    assert_type(store.count(), int)
    stats = store.stats(bucket="day", group_by_metadata_key="campaign")
    assert_type(stats, Stats)
    assert_type(stats.totals, Counts)
    assert_type(stats.totals.human_opens, int)
    try:
        store.ping()
    except StoreUnavailable:
        return False  # /readyz answers 503
    return True


async def serve_one(sink: BatchingSink, event: TrackingEvent) -> bool:
    try:
        future = sink.submit(event)
    except SinkOverloaded:
        return False  # answer 503
    assert_type(future, Future[None])
    await asyncio.wrap_future(future)
    return True


def group_commit(store: SQLiteEventStore) -> None:
    with BatchingSink(store, max_batch=100, max_queue=1000) as sink:
        sink.emit([])
        assert_type(sink.pending, int)
        assert_type(sink.lag(), float)
