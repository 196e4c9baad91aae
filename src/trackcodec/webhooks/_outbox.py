"""The durable outbox: a SQLite file (WAL) of webhook messages and their delivery state."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["Outbox", "OutboxEntry", "OutboxState", "OutboxUpdate"]

OutboxState = Literal["pending", "delivered", "failed", "dead"]
"""``pending`` (to try, now or later), ``delivered`` (2xx), ``failed`` (final
refusal: 4xx other than 408/429, or a destination the guard refuses), ``dead``
(every attempt failed; re-playable)."""

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        TEXT    NOT NULL UNIQUE,
    url             TEXT,
    body            BLOB    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'failed', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL    NOT NULL,
    lease_until     REAL    NOT NULL DEFAULT 0,
    created_at      REAL    NOT NULL,
    updated_at      REAL    NOT NULL,
    last_status     INTEGER,
    last_error      TEXT
);
CREATE INDEX IF NOT EXISTS webhook_outbox_due
    ON webhook_outbox (next_attempt_at, seq) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS webhook_outbox_state ON webhook_outbox (state, updated_at);
"""

_COLUMNS = (
    "seq, event_id, url, body, state, attempts, next_attempt_at, created_at, "
    "updated_at, last_status, last_error"
)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One message of the outbox.

    Attributes:
        seq: Insertion order (unique, increasing).
        event_id: The event's id, sent as ``webhook-id``.
        url: Destination (``None`` when the event had none allowed).
        body: The exact JSON bytes to post.
        state: See `OutboxState`.
        attempts: Delivery attempts made so far.
        next_attempt_at: When a pending entry is due (Unix seconds).
        created_at: When it was written.
        updated_at: When its state last changed.
        last_status: HTTP status of the last attempt, if there was an answer.
        last_error: Why the last attempt did not deliver, if it did not.
    """

    seq: int
    event_id: str
    url: str | None
    body: bytes
    state: OutboxState
    attempts: int
    next_attempt_at: float
    created_at: float
    updated_at: float
    last_status: int | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class OutboxUpdate:
    """What became of a claimed entry, for `Outbox.record`.

    Attributes:
        seq: The entry.
        state: Its new state (``pending`` to retry at ``next_attempt_at``).
        attempted: Whether an attempt was made (``False`` only releases the claim).
        next_attempt_at: When to retry (``pending`` only).
        status: HTTP status of the answer, if any.
        error: Why it did not deliver, if it did not.
    """

    seq: int
    state: OutboxState
    attempted: bool = True
    next_attempt_at: float | None = None
    status: int | None = None
    error: str | None = None


class Outbox:
    """A SQLite outbox file: messages are committed before any delivery attempt.

    The file is in WAL mode, so the tracking endpoint can write while a
    worker delivers, from other processes. With ``synchronous="FULL"`` (the
    default) `add` returns after the write reached the disk: neither a crash
    of the process nor of the machine loses it. ``"NORMAL"`` is faster and
    survives a crash of the process (``kill -9``), not a power cut.

    Safe to share between threads (one connection, behind a lock); open one
    `Outbox` per process.

    Args:
        path: The SQLite file (created with its table when missing).
        synchronous: SQLite's ``synchronous`` setting, ``"FULL"`` or ``"NORMAL"``.
        busy_timeout: Seconds to wait for another process's write lock.

    Raises:
        sqlite3.DatabaseError: The file is not a SQLite database, cannot be in
            WAL mode (``":memory:"``, some network file systems), or holds an
            outbox of a newer schema version.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
        busy_timeout: float = 30.0,
    ) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous must be 'FULL' or 'NORMAL'")
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=busy_timeout
        )
        self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            self._db.close()
            raise sqlite3.OperationalError(
                f"{self.path}: the outbox needs SQLite's WAL mode, which this file cannot use"
            )
        self._db.execute(f"PRAGMA synchronous = {synchronous}")
        with self._transaction():
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise sqlite3.DatabaseError(
                    f"{self.path}: outbox schema {version} is newer than this trackcodec's"
                )
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self._lock)

    def add(
        self,
        messages: Iterable[tuple[str, str | None, bytes]],
        *,
        now: float | None = None,
        failed: Sequence[tuple[str, str]] = (),
    ) -> int:
        """Commit messages, all in one transaction; returns how many were new.

        An event id already in the outbox is skipped, so re-adding a batch
        whose commit raised is safe.

        Args:
            messages: ``(event_id, url, body)`` triples, in order.
            now: Unix seconds to record instead of the current time (tests).
            failed: ``(event_id, error)`` of messages to store as ``failed``
                at once (no allowed destination): kept, never attempted.
        """
        stamp = time.time() if now is None else now
        errors = dict(failed)
        rows = [
            (
                event_id,
                url,
                body,
                "failed" if event_id in errors else "pending",
                stamp,
                stamp,
                stamp,
                errors.get(event_id),
            )
            for event_id, url, body in messages
        ]
        with self._transaction():
            before = self._db.total_changes
            self._db.executemany(
                "INSERT OR IGNORE INTO webhook_outbox (event_id, url, body, state, "
                "next_attempt_at, created_at, updated_at, last_error) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            return self._db.total_changes - before

    def claim(
        self,
        *,
        limit: int,
        lease: float,
        now: float | None = None,
        exclude_urls: Iterable[str] = (),
    ) -> list[OutboxEntry]:
        """Lease up to ``limit`` due pending entries, oldest first.

        A leased entry is not claimed again until its lease expires, so
        several workers can share a file; an entry leased by a worker that
        crashed is retried after ``lease`` seconds.
        """
        stamp = time.time() if now is None else now
        excluded = list(exclude_urls)
        not_in = f"AND url NOT IN ({', '.join('?' * len(excluded))})" if excluded else ""
        with self._transaction():
            rows = self._db.execute(
                f"UPDATE webhook_outbox SET lease_until = ? WHERE seq IN ("  # noqa: S608
                "SELECT seq FROM webhook_outbox WHERE state = 'pending' "
                f"AND next_attempt_at <= ? AND lease_until <= ? {not_in} "
                f"ORDER BY next_attempt_at, seq LIMIT ?) RETURNING {_COLUMNS}",
                (stamp + lease, stamp, stamp, *excluded, limit),
            ).fetchall()
        return sorted((OutboxEntry(*row) for row in rows), key=lambda e: e.seq)

    def record(self, updates: Iterable[OutboxUpdate], *, now: float | None = None) -> None:
        """Record the outcomes of attempts and release the leases, in one transaction.

        Args:
            updates: One `OutboxUpdate` per claimed entry.
            now: Unix seconds to record instead of the current time (tests).
        """
        stamp = time.time() if now is None else now
        attempted = []
        released = []
        for u in updates:
            if u.attempted:
                attempted.append((u.state, u.next_attempt_at, stamp, u.status, u.error, u.seq))
            else:
                released.append((u.seq,))
        with self._transaction():
            self._db.executemany(
                "UPDATE webhook_outbox SET lease_until = 0 WHERE seq = ?", released
            )
            self._db.executemany(
                "UPDATE webhook_outbox SET state = ?, attempts = attempts + 1, lease_until = 0, "
                "next_attempt_at = COALESCE(?, next_attempt_at), updated_at = ?, "
                "last_status = ?, last_error = ? WHERE seq = ?",
                attempted,
            )

    def replay(
        self,
        *,
        event_ids: Sequence[str] = (),
        include_failed: bool = False,
        now: float | None = None,
    ) -> int:
        """Put dead-lettered entries back to ``pending`` with a fresh attempt count.

        Args:
            event_ids: Only these events (default: every dead one).
            include_failed: Replay ``failed`` entries too (after fixing the receiver).
            now: Unix seconds to record instead of the current time (tests).

        Returns:
            How many entries were put back.
        """
        stamp = time.time() if now is None else now
        states = ("dead", "failed") if include_failed else ("dead",)
        where = f"state IN ({', '.join('?' * len(states))})"
        params: list[object] = [stamp, stamp, *states]
        if event_ids:
            where += f" AND event_id IN ({', '.join('?' * len(event_ids))})"
            params.extend(event_ids)
        with self._transaction():
            cursor = self._db.execute(
                "UPDATE webhook_outbox SET state = 'pending', attempts = 0, lease_until = 0, "  # noqa: S608
                f"next_attempt_at = ?, updated_at = ? WHERE {where}",
                params,
            )
            return cursor.rowcount

    def counts(self) -> dict[OutboxState, int]:
        """How many entries are in each state."""
        with self._lock:
            rows = self._db.execute(
                "SELECT state, COUNT(*) FROM webhook_outbox GROUP BY state"
            ).fetchall()
        counts: dict[OutboxState, int] = {"pending": 0, "delivered": 0, "failed": 0, "dead": 0}
        counts.update(dict(rows))
        return counts

    def next_due(self) -> float | None:
        """When the earliest pending entry is due (ignoring leases), or ``None``."""
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(next_attempt_at) FROM webhook_outbox WHERE state = 'pending'"
            ).fetchone()
        return None if row[0] is None else float(row[0])

    def entries(self, state: OutboxState | None = None, *, limit: int = 100) -> list[OutboxEntry]:
        """Up to ``limit`` entries (of one state), oldest first."""
        where, params = ("WHERE state = ?", (state,)) if state else ("", ())
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM webhook_outbox {where} ORDER BY seq LIMIT ?",  # noqa: S608
                (*params, limit),
            ).fetchall()
        return [OutboxEntry(*row) for row in rows]

    def purge_delivered(self, *, older_than: float, now: float | None = None) -> int:
        """Delete entries delivered more than ``older_than`` seconds ago; returns how many."""
        stamp = time.time() if now is None else now
        with self._transaction():
            cursor = self._db.execute(
                "DELETE FROM webhook_outbox WHERE state = 'delivered' AND updated_at < ?",
                (stamp - older_than,),
            )
            return cursor.rowcount

    def close(self) -> None:
        """Close the database connection. Idempotent."""
        with self._lock:
            self._db.close()


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error), under the connection lock."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock) -> None:
        self._db = db
        self._lock = lock

    def __enter__(self) -> None:
        self._lock.acquire()
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            self._db.execute("ROLLBACK" if exc_type is not None else "COMMIT")
        finally:
            self._lock.release()
