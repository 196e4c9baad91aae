"""`TrackingEvent`: one open or click as it reached a tracking endpoint, and `EventSink`.

The endpoint core builds a `TrackingEvent` from a decoded `TrackingResult`
plus what the HTTP request says (client IP, user agent, method) and hands
batches of them to an `EventSink`: a webhook outbox, a database table, a
queue. An event's ``id`` is a UUIDv7: unique, sortable by time, and the
``webhook-id`` of its delivery, so receivers can drop the duplicates that
at-least-once delivery allows.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from trackcodec.result import TrackingKind

__all__ = ["EventSink", "Likelihood", "TrackingEvent", "new_event_id"]

Likelihood = Literal["human", "machine"]
"""Who most likely fetched the pixel or followed the link."""

_lock = threading.Lock()
_last_ms = 0
_last_counter = 0

# Random bits come from os.urandom read 4 KiB at a time: one getrandom() system call
# per ~400 ids instead of two per id (in a server, each system call also hands the GIL
# to the commit thread, and retaking it waited). Same source, same quality.
_POOL_SIZE = 4096
_pool = b""
_pool_at = 0


def _reset_pool() -> None:  # a forked child must not reuse its parent's random bytes
    global _pool, _pool_at
    _pool, _pool_at = b"", 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_pool)


def _random_int(n: int) -> int:
    """An int made of ``n`` random bytes (call with ``_lock`` held)."""
    global _pool, _pool_at
    if _pool_at + n > len(_pool):
        _pool, _pool_at = os.urandom(_POOL_SIZE), 0
    start = _pool_at
    _pool_at = start + n
    return int.from_bytes(_pool[start : start + n], "big")


def new_event_id(*, now: float | None = None) -> str:
    """Return a new UUIDv7 (RFC 9562) as its 36-character string.

    The first 48 bits are the Unix time in milliseconds, so ids sort by
    creation time; within one millisecond a 12-bit counter keeps the ids
    of this process increasing (a clock that steps back does not make ids
    go back); the remaining 62 bits are random.

    Args:
        now: Unix seconds to stamp instead of the current time (the time a
            request was received, say). A ``now`` at or after this process's
            latest id is ordered like the current time; one before it (tests,
            imports of old events) is stamped exactly and takes part in no
            ordering with other ids.
    """
    global _last_ms, _last_counter
    ms = int((time.time() if now is None else now) * 1000)
    with _lock:
        if now is not None and ms < _last_ms:
            # A time in the past (tests, imports of old events): stamped exactly, unordered.
            counter = _random_int(2) & 0xFFF
        else:
            if ms <= _last_ms:
                ms = _last_ms
                _last_counter += 1
                if _last_counter > 0xFFF:  # 4096 ids in one millisecond: borrow the next one
                    ms += 1
                    _last_counter = 0
            else:
                _last_counter = _random_int(2) & 0x3FF  # room to count
            _last_ms = ms
            counter = _last_counter
        rand = _random_int(8) & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | rand
    h = f"{value:032x}"  # what str(uuid.UUID(int=value)) gives, without building the object
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class TrackingEvent(BaseModel):
    """An open or a click, as received by a tracking endpoint.

    Frozen and JSON-serialisable (``event.model_dump_json()``,
    ``TrackingEvent.model_validate_json(text)``); the JSON form is what
    webhooks carry and what the SQL sinks store.

    Attributes:
        id: UUIDv7 string: unique, time-ordered; the webhook's ``webhook-id``.
        kind: ``"open"`` or ``"click"``.
        timestamp: When the request was received (Unix seconds, UTC, with
            fractions).
        tracked_url: The click's target (already through the redirect
            policy), or the URL an open token carries, if any.
        metadata: The token's metadata merged over the default metadata, as
            JSON-compatible data (a metadata model is dumped to a dict).
        webhook_url: The webhook the token asks to notify (already through
            the allow-list), if any.
        issued_at: When the token was minted, if it carries the time.
        key_id: Key id of the token (``None`` for legacy tokens).
        authenticated: Whether the token's integrity was verified.
        legacy: Whether the token was minted by pytracking.
        client_ip: The client's address, as resolved with the configured
            trusted proxies (``None`` when unknown).
        user_agent: The request's ``User-Agent`` header, if any.
        method: The HTTP method (``"GET"`` or ``"HEAD"``).
        likely: ``"human"`` or ``"machine"`` (mail privacy proxies, image
            proxies, link scanners). Never a reason to drop an event.
        machine_reason: Why the event was classified as a machine, e.g.
            ``"apple-mail-privacy-protection"``; ``None`` for humans.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: TrackingKind
    timestamp: float
    tracked_url: str | None = None
    metadata: dict[str, Any]
    webhook_url: str | None = None
    issued_at: int | None = None
    key_id: int | None = None
    authenticated: bool = True
    legacy: bool = False
    client_ip: str | None = None
    user_agent: str | None = None
    method: str = "GET"
    likely: Likelihood = "human"
    machine_reason: str | None = None

    @property
    def is_machine(self) -> bool:
        """Whether the event was most likely caused by a machine, not a person."""
        return self.likely == "machine"


class EventSink(Protocol):
    """Where a tracking endpoint hands its events.

    Attributes:
        durable: ``True`` when `emit` returns only after the events are
            committed to storage that survives a crash of this process
            (a database transaction, a WAL-mode SQLite outbox). An endpoint
            that promises not to acknowledge an uncommitted event relies on it.
    """

    durable: bool

    def emit(self, events: Sequence[TrackingEvent], /) -> None:
        """Store or forward a batch of events, in order.

        Raises:
            Exception: Whatever storage raises; the events of a batch that
                raised are not committed and the caller may retry them.
        """
        ...

    def close(self) -> None:
        """Flush what is buffered and release connections. Idempotent."""
        ...
