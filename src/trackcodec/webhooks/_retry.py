"""When to try again: exponential backoff with jitter, and ``Retry-After``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from trackcodec._deps import require

__all__ = ["RetryPolicy", "parse_retry_after"]


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date).

    Returns ``None`` for a missing or unreadable header; never negative.
    """
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How an outbox retries a delivery.

    The n-th retry waits ``initial * 2 ** (n - 1)`` seconds plus a random
    jitter of up to ``jitter`` seconds, at most ``max_delay``; a
    ``Retry-After`` answer waits at least what it asks (capped at
    ``max_retry_after``). After ``max_attempts`` attempts an event is
    dead-lettered: kept, and re-playable.

    The schedule is tenacity's ``wait_exponential() + wait_random()``: the outbox keeps
    the attempt count on disk, so a worker restarted after a crash continues
    the same schedule.

    Attributes:
        max_attempts: Attempts before dead-lettering (at least 1).
        initial: First backoff, seconds.
        max_delay: Longest backoff, seconds.
        jitter: Largest random addition, seconds.
        max_retry_after: Longest ``Retry-After`` honoured, seconds.
    """

    max_attempts: int = 12
    initial: float = 1.0
    max_delay: float = 3600.0
    jitter: float = 1.0
    max_retry_after: float = 6 * 3600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.initial, self.max_delay, self.jitter, self.max_retry_after) < 0:
            raise ValueError("delays must not be negative")

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt (1 for the first)."""
        tenacity = require("tenacity", package="tenacity", extra="webhooks", feature="webhooks")
        wait = tenacity.wait_exponential(
            multiplier=self.initial, max=self.max_delay
        ) + tenacity.wait_random(0, self.jitter)
        state = tenacity.RetryCallState(tenacity.Retrying(), None, (), {})
        state.attempt_number = max(1, attempts)
        backoff = float(wait(state))
        if retry_after is not None:
            backoff = max(backoff, min(retry_after, self.max_retry_after))
        return backoff
