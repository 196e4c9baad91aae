"""`SQLiteEventStore`: tracking events in a table of a SQLite file (WAL mode)."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Literal

from trackcodec._closing import ClosingContext
from trackcodec.event import TrackingEvent
from trackcodec.result import TrackingKind
from trackcodec.stores import _sql
from trackcodec.stores._base import (
    COLUMNS,
    EVENTS_TABLE,
    SCHEMA_TABLE,
    SCHEMA_VERSION,
    event_row,
    row_event,
)
from trackcodec.stores.errors import StoreUnavailable
from trackcodec.stores.stats import Bucket, Stats

__all__ = ["DEFAULT_SQLITE_PATH", "SQLiteEventStore", "Synchronous"]

DEFAULT_SQLITE_PATH = "trackcodec-events.sqlite3"
"""The file `open_store("")` (and so ``trackcodec serve`` without a database) uses."""

Synchronous = Literal["FULL", "NORMAL"]

# Version n of the schema is reached by running _MIGRATIONS[n - 1].
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        f"""CREATE TABLE {EVENTS_TABLE} (
            id TEXT PRIMARY KEY NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('open', 'click')),
            timestamp REAL NOT NULL,
            tracked_url TEXT,
            metadata TEXT NOT NULL,
            client_ip TEXT,
            user_agent TEXT,
            likely TEXT NOT NULL CHECK (likely IN ('human', 'machine')),
            machine_reason TEXT,
            key_id INTEGER,
            legacy INTEGER NOT NULL,
            authenticated INTEGER NOT NULL,
            webhook_url TEXT,
            issued_at INTEGER,
            method TEXT NOT NULL
        )""",
        f"CREATE INDEX {EVENTS_TABLE}_timestamp ON {EVENTS_TABLE} (timestamp)",
        f"CREATE INDEX {EVENTS_TABLE}_kind_timestamp ON {EVENTS_TABLE} (kind, timestamp)",
    ),
)
assert len(_MIGRATIONS) == SCHEMA_VERSION


def _metadata_path(key: str) -> str:
    if '"' in key:
        raise ValueError(f"a metadata key for SQLite stats cannot contain '\"': {key!r}")
    # The key as the stored JSON writes it (backslash, control characters escaped):
    # SQLite before 3.45 compares a path label with the key's JSON text, later
    # versions unescape both.
    label = json.dumps(key, ensure_ascii=False)[1:-1]
    try:
        label.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"a metadata key cannot hold a lone surrogate: {key!r}") from None
    return f'$."{label}"'


_DIALECT = _sql.Dialect(
    placeholder="?",
    metadata_text="CAST(json_extract(metadata, ?) AS TEXT)",
    metadata_param=_metadata_path,
    floor="CAST({} AS INTEGER)",
)
# ON CONFLICT (id), not INSERT OR IGNORE: OR IGNORE would also skip rows that fail a
# CHECK or NOT NULL constraint, silently losing events instead of failing the batch.
# Rows per multi-row INSERT: one statement is one sqlite3_step, so the commit thread
# releases and retakes the GIL once per chunk instead of once per row (under load the
# event loop holds the GIL, and each retake waited for it). 64 rows x 15 columns stay
# far under SQLite's limit of 32766 parameters.
_CHUNK = 64
_ROW = f"({', '.join('?' * len(COLUMNS))})"
_inserts: dict[int, str] = {}


def _insert_rows(n: int) -> str:
    sql = _inserts.get(n)
    if sql is None:
        sql = _inserts[n] = (
            f"INSERT INTO {EVENTS_TABLE} ({', '.join(COLUMNS)}) "
            f"VALUES {', '.join([_ROW] * n)} ON CONFLICT (id) DO NOTHING"
        )
    return sql


class SQLiteEventStore(ClosingContext):
    """An `EventSink` that stores events in a SQLite file, and reads them back.

    The file is in WAL mode. Each `emit` is one transaction (``BEGIN
    IMMEDIATE`` ... ``COMMIT``): a batch is stored whole or not at all, and
    `emit` returns only once it is committed. Events are keyed by their id, so
    emitting an event twice stores it once. Several threads and several
    processes may write to the same file (writers take turns; readers never
    block writers).

    The schema is created or upgraded when the store opens (`migrate`).

    Args:
        path: The database file (created if missing). ``":memory:"`` is
            refused: readers use their own connections.
        synchronous: ``"FULL"`` (default) makes every commit wait for the WAL
            to reach the disk (``fsync``): a committed event survives a crash
            of the process, of the OS and a power cut. ``"NORMAL"`` skips that
            wait: committed events still survive a crash of the process
            (``kill -9``), but the last commits before an OS crash or power
            cut may be lost. See the stores page for measured figures.
        timeout: Seconds a writer waits for another writer's lock before
            `emit` raises ``sqlite3.OperationalError``.

    Attributes:
        durable: Always ``True``: `emit` returns after the commit.
        path: The database file.
    """

    durable = True

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: Synchronous = "FULL",
        timeout: float = 30.0,
    ) -> None:
        if str(path) in ("", ":memory:") or str(path).startswith("file:"):
            raise ValueError(f"SQLiteEventStore needs a file path, not {str(path)!r}")
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be 'FULL' or 'NORMAL', not {synchronous!r}")
        self.path = Path(path)
        self._synchronous = synchronous
        self._timeout = timeout
        self._lock = threading.Lock()
        self._closed = False
        self._conn = self._connect()
        try:
            self.migrate()
        except BaseException:
            self._conn.close()
            raise

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit transactions; each emit says BEGIN IMMEDIATE.
        conn = sqlite3.connect(
            self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
        )
        try:
            self._enable_wal(conn)
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _enable_wal(self, conn: sqlite3.Connection) -> None:
        # Switching a new file to WAL needs an exclusive lock, and SQLite does not call the
        # busy handler for it: two processes opening a new file at once would see "database
        # is locked". Retry until the timeout (once the file is in WAL, this is one read).
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
                continue
            if str(mode).lower() != "wal":
                raise StoreUnavailable(f"{self.path} cannot be put in WAL mode (it is {mode})")
            return

    def migrate(self) -> int:
        """Create or upgrade the schema; return the schema version now in the file.

        Idempotent, and safe when several processes call it at once (it runs
        in one ``BEGIN IMMEDIATE`` transaction, which SQLite serialises).

        Raises:
            StoreUnavailable: The file holds a newer schema than this release knows.
        """
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} (version INTEGER NOT NULL)"
                )
                (current,) = conn.execute(
                    f"SELECT COALESCE(MAX(version), 0) FROM {SCHEMA_TABLE}"
                ).fetchone()
                if current > SCHEMA_VERSION:
                    raise StoreUnavailable(
                        f"{self.path} has event schema version {current}; this trackcodec "
                        f"knows up to {SCHEMA_VERSION}: upgrade trackcodec"
                    )
                for statements in _MIGRATIONS[current:]:
                    for statement in statements:
                        conn.execute(statement)
                if current < SCHEMA_VERSION:
                    conn.execute(f"DELETE FROM {SCHEMA_TABLE}")
                    conn.execute(f"INSERT INTO {SCHEMA_TABLE} VALUES (?)", (SCHEMA_VERSION,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return SCHEMA_VERSION

    # -- write side --------------------------------------------------------------------

    def emit(self, events: Sequence[TrackingEvent], /) -> None:
        """Store a batch of events in one transaction; return once it is committed.

        Events whose id is already stored are skipped (at-least-once delivery
        upstream never duplicates a row).

        Raises:
            StoreUnavailable: The store is closed.
            sqlite3.Error: The transaction failed; nothing of the batch is stored.
        """
        if not events:
            return
        rows = [event_row(event) for event in events]
        with self._lock:
            if self._closed:
                raise StoreUnavailable(f"the event store {self.path} is closed")
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                for start in range(0, len(rows), _CHUNK):
                    chunk = rows[start : start + _CHUNK]
                    conn.execute(_insert_rows(len(chunk)), [v for row in chunk for v in row])
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def ping(self) -> None:
        """Check that the store can be written to now (for a ``/readyz`` route).

        Takes and releases the write lock (waiting at most one second for it).

        Raises:
            StoreUnavailable: The file cannot be written, is locked, or the
                store is closed; the storage error is chained.
        """
        with self._lock:
            if self._closed:
                raise StoreUnavailable(f"the event store {self.path} is closed")
            conn = self._conn
            try:
                conn.execute("PRAGMA busy_timeout = 1000")
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute("ROLLBACK")
                finally:
                    conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
            except sqlite3.Error as exc:
                raise StoreUnavailable(
                    f"the event store {self.path} is not writable: {exc}"
                ) from exc

    def close(self) -> None:
        """Close the connection. Idempotent; `emit` raises afterwards."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    # -- read side ---------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None)
        conn.execute("PRAGMA query_only = ON")
        return conn

    @contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        with closing(self._reader()) as conn:
            conn.execute("BEGIN")  # one snapshot for all that is read
            yield conn
            conn.execute("COMMIT")

    def events(
        self,
        since: float | None = None,
        until: float | None = None,
        *,
        kind: TrackingKind | None = None,
        limit: int | None = None,
    ) -> Iterator[TrackingEvent]:
        """Iterate over stored events in time order (then by id).

        Reads in one snapshot on its own connection, streaming: exporting
        millions of events does not hold them in memory.

        Args:
            since: Only events at or after this time (Unix seconds).
            until: Only events before this time (Unix seconds).
            kind: Only ``"open"`` or only ``"click"`` events.
            limit: At most this many events.

        Raises:
            ValueError: ``kind`` or ``limit`` is invalid.
        """
        sql, params = _sql.events_query(_DIALECT, since, until, kind, limit)
        return self._iter_events(sql, params)

    def _iter_events(self, sql: str, params: list[object]) -> Iterator[TrackingEvent]:
        with self._snapshot() as conn:
            cursor = conn.execute(sql, params)
            while rows := cursor.fetchmany(500):
                for row in rows:
                    yield row_event(row)

    def count(
        self,
        since: float | None = None,
        until: float | None = None,
        *,
        kind: TrackingKind | None = None,
    ) -> int:
        """The number of stored events (in the range and of the kind, when given)."""
        sql, params = _sql.count_query(_DIALECT, since, until, kind)
        with closing(self._reader()) as conn:
            (n,) = conn.execute(sql, params).fetchone()
        return int(n)

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
        """Opens and clicks per time bucket: totals, unique, human and machine, top links.

        Args:
            since: Start of the range (inclusive, Unix seconds).
            until: End of the range (exclusive, Unix seconds).
            bucket: ``"hour"`` or ``"day"`` (UTC boundaries).
            group_by_metadata_key: Split each bucket by the value of this
                metadata key (e.g. ``"campaign"``); values are compared as text.
            unique_by_metadata_key: The metadata key that identifies a
                recipient for unique counts (e.g. ``"customer_id"``); events
                without it, or all events when ``None``, count client IP +
                user agent as the recipient.
            top_links: How many of the most clicked URLs to return.

        Raises:
            ValueError: An invalid bucket, ``top_links`` or metadata key.
        """
        return _sql.read_stats(
            _DIALECT,
            self._snapshot,
            since=since,
            until=until,
            bucket=bucket,
            group_key=group_by_metadata_key,
            unique_key=unique_by_metadata_key,
            top_links=top_links,
        )
