"""`PostgresEventStore`: tracking events in a PostgreSQL table (psycopg 3).

Needs ``pip install 'trackcodec[postgres]'``; psycopg is imported when a store
is created, never when this module is.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from trackcodec._deps import require
from trackcodec.event import TrackingEvent
from trackcodec.result import TrackingKind
from trackcodec.stores import _sql
from trackcodec.stores._base import (
    COLUMNS,
    EVENTS_TABLE,
    SCHEMA_TABLE,
    SCHEMA_VERSION,
    event_row,
    metadata_json,
    row_event,
)
from trackcodec.stores.errors import StoreUnavailable
from trackcodec.stores.stats import Bucket, Stats

if TYPE_CHECKING:
    import psycopg

__all__ = ["COPY_FROM", "MIGRATION_LOCK_KEY", "PostgresEventStore"]

MIGRATION_LOCK_KEY = 0x7472_6163_6B63  # "trackc": the advisory lock `migrate` holds
"""The ``pg_advisory_xact_lock`` key that serialises concurrent `migrate` calls."""

InsertMethod = Literal["auto", "executemany", "copy"]

COPY_FROM = 100
"""With ``insert="auto"``, batches of at least this many events go through ``COPY``."""

# Version n of the schema is reached by running _MIGRATIONS[n - 1].
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        f"""CREATE TABLE {EVENTS_TABLE} (
            id text PRIMARY KEY,
            kind text NOT NULL CHECK (kind IN ('open', 'click')),
            timestamp double precision NOT NULL,
            tracked_url text,
            metadata jsonb NOT NULL,
            client_ip text,
            user_agent text,
            likely text NOT NULL CHECK (likely IN ('human', 'machine')),
            machine_reason text,
            key_id integer,
            legacy boolean NOT NULL,
            authenticated boolean NOT NULL,
            webhook_url text,
            issued_at bigint,
            method text NOT NULL
        )""",
        f"CREATE INDEX {EVENTS_TABLE}_timestamp ON {EVENTS_TABLE} (timestamp)",
        f"CREATE INDEX {EVENTS_TABLE}_kind_timestamp ON {EVENTS_TABLE} (kind, timestamp)",
    ),
)
assert len(_MIGRATIONS) == SCHEMA_VERSION

_DIALECT = _sql.Dialect(
    placeholder="%s",
    metadata_text="(metadata ->> %s)",
    metadata_param=str,
    floor="floor({})",
)
_COLUMN_LIST = ", ".join(COLUMNS)
_INSERT = (
    f"INSERT INTO {EVENTS_TABLE} ({_COLUMN_LIST}) "
    f"VALUES ({', '.join('%s::jsonb' if c == 'metadata' else '%s' for c in COLUMNS)}) "
    "ON CONFLICT (id) DO NOTHING"
)
_STAGING = "trackcodec_events_staging"


def _no_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_no_nul(k): _no_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nul(v) for v in value]
    return value


def _pg_row(event: TrackingEvent) -> tuple[Any, ...]:
    # Neither text nor jsonb can hold U+0000, and an event must still be stored: U+0000
    # becomes U+FFFD (documented).
    row = event_row(event)
    if "\\u0000" in row[4]:  # json.dumps always escapes NUL; a false hit only costs a walk
        row = (*row[:4], metadata_json(_no_nul(event.metadata)), *row[5:])
    if any(isinstance(v, str) and "\x00" in v for v in row):
        row = tuple(_no_nul(v) if i != 4 else v for i, v in enumerate(row))
    return row


class PostgresEventStore:
    """An `EventSink` that stores events in a PostgreSQL table, and reads them back.

    Each `emit` is one transaction; rows go in with ``INSERT ... ON CONFLICT
    (id) DO NOTHING`` (pipelined ``executemany``) or through ``COPY`` into a
    temporary table (see ``insert``), so emitting an event twice stores it once. Writes use
    one connection guarded by a lock: the `BatchingSink` in front of a
    store already turns concurrent requests into one writer's batches, and
    a pool would only add connections competing for the same index pages.
    The connection is re-opened when it breaks, and the batch sent again. Reads (`events`, `count`,
    `stats`) use a short-lived connection of their own, so a long export
    never holds up writes.

    The schema is created or upgraded when the store opens (`migrate`),
    safely when many nodes start at once.

    PostgreSQL text cannot hold the character U+0000: it is stored as
    U+FFFD in every text column and metadata string (the SQLite store keeps it).

    Args:
        dsn: A libpq connection string or ``postgresql://`` URL.
        insert: ``"executemany"`` (pipelined ``INSERT ... ON CONFLICT``),
            ``"copy"`` (``COPY`` into a temporary table, then one
            ``INSERT ... SELECT ... ON CONFLICT``), or ``"auto"`` (default):
            ``COPY`` for batches of `COPY_FROM` events or more, where it is
            measured faster, ``executemany`` for smaller ones, where it is.
        migrate: Run `migrate` when opening (default ``True``).
        connect_timeout: Seconds to wait for a connection.

    Attributes:
        durable: Always ``True``: `emit` returns after the commit (with the
            server's ``synchronous_commit``, ``on`` by default).

    Raises:
        MissingDependencyError: psycopg is not installed.
        psycopg.OperationalError: The server cannot be reached.
    """

    durable = True

    def __init__(
        self,
        dsn: str,
        *,
        insert: InsertMethod = "auto",
        migrate: bool = True,
        connect_timeout: float = 10.0,
    ) -> None:
        require("psycopg", package="psycopg", extra="postgres", feature="PostgresEventStore")
        if insert not in ("auto", "executemany", "copy"):
            raise ValueError(f"insert must be 'auto', 'executemany' or 'copy', not {insert!r}")
        self.dsn = dsn
        self.insert = insert
        self._connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._closed = False
        self._staging = False
        self._conn: psycopg.Connection[Any] = self._connect()
        if migrate:
            try:
                self.migrate()
            except BaseException:
                self._conn.close()
                raise

    def _connect(self, *, autocommit: bool = True) -> psycopg.Connection[Any]:
        import psycopg

        return psycopg.connect(
            self.dsn,
            autocommit=autocommit,
            connect_timeout=max(1, round(self._connect_timeout)),
            application_name="trackcodec",
        )

    def _writer(self) -> psycopg.Connection[Any]:
        if self._closed:
            raise StoreUnavailable("the PostgreSQL event store is closed")
        if self._conn.closed or self._conn.broken:
            self._conn.close()
            self._conn = self._connect()
            self._staging = False
        return self._conn

    def migrate(self) -> int:
        """Create or upgrade the schema; return the schema version now in the database.

        Runs in one transaction holding ``pg_advisory_xact_lock`` on
        `MIGRATION_LOCK_KEY`: idempotent, and safe when several processes
        call it at once (the others wait, then find nothing to do).

        Raises:
            StoreUnavailable: The database holds a newer schema than this release knows.
        """
        with self._lock:
            conn = self._writer()
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} (version integer NOT NULL)"
                )
                row = conn.execute(
                    f"SELECT COALESCE(MAX(version), 0) FROM {SCHEMA_TABLE}"
                ).fetchone()
                current = int(row[0]) if row else 0
                if current > SCHEMA_VERSION:
                    raise StoreUnavailable(
                        f"the database has event schema version {current}; this trackcodec "
                        f"knows up to {SCHEMA_VERSION}: upgrade trackcodec"
                    )
                for statements in _MIGRATIONS[current:]:
                    for statement in statements:
                        conn.execute(statement)
                if current < SCHEMA_VERSION:
                    conn.execute(f"DELETE FROM {SCHEMA_TABLE}")
                    conn.execute(f"INSERT INTO {SCHEMA_TABLE} VALUES (%s)", (SCHEMA_VERSION,))
        return SCHEMA_VERSION

    # -- write side --------------------------------------------------------------------

    def emit(self, events: Sequence[TrackingEvent], /) -> None:
        """Store a batch of events in one transaction; return once it is committed.

        Events whose id is already stored are skipped. When the connection
        turns out to be broken, the batch is sent once more on a new one (safe:
        rows are keyed by id, so a batch whose commit did happen is not
        stored twice).

        Raises:
            StoreUnavailable: The store is closed.
            psycopg.Error: The transaction failed; nothing of the batch is stored.
        """
        if not events:
            return
        import psycopg

        rows = [_pg_row(event) for event in events]
        use_copy = self.insert == "copy" or (self.insert == "auto" and len(rows) >= COPY_FROM)
        with self._lock:
            try:
                self._insert(rows, use_copy)
            except psycopg.OperationalError:
                if not self._conn.broken:
                    raise
                # The connection died (server restart, failover, idle timeout). Whether the
                # commit happened or not, inserting again is safe: rows are keyed by id.
                self._insert(rows, use_copy)

    def _insert(self, rows: list[tuple[Any, ...]], use_copy: bool) -> None:
        conn = self._writer()
        if use_copy and not self._staging:
            # Created outside the batch's transaction, so a failed batch keeps it.
            conn.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} "
                f"(LIKE {EVENTS_TABLE}) ON COMMIT DELETE ROWS"
            )
            self._staging = True
        with conn.transaction(), conn.cursor() as cur:
            if not use_copy:
                cur.executemany(_INSERT, rows)
                return
            with cur.copy(f"COPY {_STAGING} ({_COLUMN_LIST}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(
                f"INSERT INTO {EVENTS_TABLE} ({_COLUMN_LIST}) "
                f"SELECT {_COLUMN_LIST} FROM {_STAGING} ON CONFLICT (id) DO NOTHING"
            )

    def ping(self) -> None:
        """Check that the store can be written to now (for a ``/readyz`` route).

        Raises:
            StoreUnavailable: No connection, a read-only server or
                transaction, or the store is closed; the error is chained.
        """
        import psycopg

        with self._lock:
            try:
                conn = self._writer()
                row = conn.execute(
                    "SELECT pg_is_in_recovery(), current_setting('transaction_read_only')"
                ).fetchone()
            except psycopg.Error as exc:
                raise StoreUnavailable(f"PostgreSQL is not reachable: {exc}") from exc
        if row is None or row[0] or row[1] != "off":
            raise StoreUnavailable("PostgreSQL is read-only (a standby, or read-only transactions)")

    def close(self) -> None:
        """Close the write connection. Idempotent; `emit` raises afterwards."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def __enter__(self) -> PostgresEventStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- read side ---------------------------------------------------------------------

    def events(
        self,
        since: float | None = None,
        until: float | None = None,
        *,
        kind: TrackingKind | None = None,
        limit: int | None = None,
    ) -> Iterator[TrackingEvent]:
        """Iterate over stored events in time order (then by id).

        Streams through a server-side cursor on a connection of its own, in
        one snapshot.

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

    def _iter_events(self, sql: str, params: list[Any]) -> Iterator[TrackingEvent]:
        with self._connect(autocommit=False) as conn, conn.cursor(name="trackcodec_events") as cur:
            cur.itersize = 1000
            cur.execute(sql, params)
            for row in cur:
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
        with self._connect() as conn:
            row = conn.execute(sql, params).fetchone()
        return int(row[0]) if row else 0

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

        Same arguments and result as `SQLiteEventStore.stats`.

        Raises:
            ValueError: An invalid bucket or ``top_links``.
        """
        rows_q, totals_q, links_q = _sql.stats_queries(
            _DIALECT,
            since=since,
            until=until,
            bucket=bucket,
            group_key=group_by_metadata_key,
            unique_key=unique_by_metadata_key,
            top_links=top_links,
        )
        with self._connect(autocommit=False) as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            rows = conn.execute(*rows_q).fetchall()
            totals = conn.execute(*totals_q).fetchone()
            links = conn.execute(*links_q).fetchall()
        return _sql.build_stats(
            bucket=bucket, since=since, until=until, rows=rows, totals=totals, links=links
        )
