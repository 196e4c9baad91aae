"""Event stores and sinks: where a tracking endpoint's events go.

- `SQLiteEventStore`: a table in a SQLite file (WAL), stdlib only.
- `PostgresEventStore`: a table in PostgreSQL (``pip install 'trackcodec[postgres]'``).
- `CallableSink`: hands batches to any callable (Celery task, queue).
- `BatchingSink`: group commit in front of any sink, with a bounded queue.

Both stores share one schema and one read API (`EventStore`): `events`,
`count`, `stats`, `ping`. `open_store` picks the store from a database
setting.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from trackcodec.event import EventSink, TrackingEvent
from trackcodec.result import TrackingKind
from trackcodec.stores._base import SCHEMA_VERSION
from trackcodec.stores.batching import BatchingSink, CallableSink
from trackcodec.stores.errors import SinkOverloaded, StoreUnavailable
from trackcodec.stores.postgres import PostgresEventStore
from trackcodec.stores.sqlite import DEFAULT_SQLITE_PATH, SQLiteEventStore
from trackcodec.stores.stats import Bucket, Counts, LinkCount, Stats, StatsRow

__all__ = [
    "DEFAULT_SQLITE_PATH",
    "SCHEMA_VERSION",
    "BatchingSink",
    "Bucket",
    "CallableSink",
    "Counts",
    "EventStore",
    "LinkCount",
    "PostgresEventStore",
    "SQLiteEventStore",
    "SinkOverloaded",
    "Stats",
    "StatsRow",
    "StoreUnavailable",
    "is_postgres",
    "open_store",
]


class EventStore(EventSink, Protocol):
    """An `EventSink` that can also be read: what ``trackcodec serve`` needs.

    `SQLiteEventStore` and `PostgresEventStore` implement it.
    """

    def migrate(self) -> int:
        """Create or upgrade the schema; return its version."""
        ...

    def ping(self) -> None:
        """Raise `StoreUnavailable` unless the store can be written to now."""
        ...

    def events(
        self,
        since: float | None = None,
        until: float | None = None,
        *,
        kind: TrackingKind | None = None,
        limit: int | None = None,
    ) -> Iterator[TrackingEvent]:
        """Iterate over stored events in time order."""
        ...

    def count(
        self,
        since: float | None = None,
        until: float | None = None,
        *,
        kind: TrackingKind | None = None,
    ) -> int:
        """The number of stored events."""
        ...

    def stats(
        self,
        since: float | None = None,
        until: float | None = None,
        *,
        bucket: Bucket = "hour",
        group_by_metadata_key: str | None = None,
        unique_by_metadata_key: str | None = None,
        top_links: int = 10,
    ) -> Stats:
        """Opens and clicks per time bucket."""
        ...


def is_postgres(database: str) -> bool:
    """Whether a database setting names PostgreSQL (else it is a SQLite file)."""
    return database.startswith(("postgresql://", "postgres://")) or database.split("=", 1)[
        0
    ].strip() in ("host", "hostaddr", "dbname", "service")


def open_store(database: str) -> EventStore:
    """Open the event store a database setting names.

    Args:
        database: ``""`` for `DEFAULT_SQLITE_PATH` in the current directory; a
            ``postgresql://`` or ``postgres://`` URL (or a ``key=value``
            libpq string starting with ``host=``/``dbname=``) for PostgreSQL;
            ``sqlite:///path`` or a plain path for a SQLite file.

    Raises:
        MissingDependencyError: PostgreSQL without ``trackcodec[postgres]``.
    """
    if is_postgres(database):
        return PostgresEventStore(database)
    if database.startswith("sqlite:///"):
        database = database.removeprefix("sqlite:///")
    elif database.startswith("sqlite://"):
        raise ValueError(f"a SQLite URL reads sqlite:///path, not {database!r}")
    return SQLiteEventStore(database or DEFAULT_SQLITE_PATH)
