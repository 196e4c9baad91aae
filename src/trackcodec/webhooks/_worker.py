"""The outbox worker: claims due messages, posts them, records what happened."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time

from trackcodec.webhooks._client import AsyncWebhookClient, DeliveryOutcome
from trackcodec.webhooks._outbox import Outbox, OutboxEntry, OutboxUpdate
from trackcodec.webhooks._retry import RetryPolicy

__all__ = ["OutboxWorker"]

logger = logging.getLogger("trackcodec.webhooks")


class OutboxWorker:
    """Delivers an `Outbox`: at least once, retried, dead-lettered when hopeless.

    Each round claims up to ``batch_size`` due entries (oldest first), posts
    them with up to ``concurrency`` requests in flight, then records every
    outcome in one transaction. A retryable failure (connection error,
    timeout, 408, 429, 5xx) reschedules the entry by the `RetryPolicy` and
    pauses its destination until then; when the pause ends, one entry
    probes the destination before the others go. A receiver that is down
    costs one request per backoff period, not one per queued event. After
    ``retry.max_attempts`` attempts an entry is ``dead``; any other 4xx (and
    a destination the SSRF guard refuses) makes it ``failed``. Both are kept
    and can be replayed (`Outbox.replay`, ``trackcodec events replay``).

    A delivery whose outcome was not yet recorded when the process died is
    made again after its lease expires: receivers dedupe on ``webhook-id``.
    Outcomes are logged to the ``trackcodec.webhooks`` logger (retries at
    INFO, ``failed`` and ``dead`` at WARNING).

    Args:
        outbox: The outbox to deliver.
        client: The signing client (its SSRF policy and timeout apply).
        retry: Backoff and attempt limit.
        batch_size: Entries claimed per round (bounds memory).
        concurrency: Requests in flight at once.
        lease: Seconds a claim lasts; must exceed the longest round, or a
            second worker on the file may post the same entries. Defaults to
            ``ceil(batch_size / concurrency)`` attempts of four timeouts each
            (connect, write, read, pool), plus 30 s.
        poll_interval: Longest sleep when nothing is due (new entries are
            picked up within this time).
    """

    def __init__(
        self,
        outbox: Outbox,
        client: AsyncWebhookClient,
        *,
        retry: RetryPolicy | None = None,
        batch_size: int = 100,
        concurrency: int = 16,
        lease: float | None = None,
        poll_interval: float = 1.0,
    ) -> None:
        if batch_size < 1 or concurrency < 1:
            raise ValueError("batch_size and concurrency must be at least 1")
        self.outbox = outbox
        self.client = client
        self.retry = retry if retry is not None else RetryPolicy()
        self.batch_size = batch_size
        self.concurrency = concurrency
        waves = math.ceil(batch_size / concurrency)
        self.lease = lease if lease is not None else waves * 4 * client.timeout + 30.0
        self.poll_interval = poll_interval
        self._paused: dict[str, float] = {}  # destination -> paused until
        self._probing: set[str] = set()  # pause ran out: one attempt until one gets an answer

    def _paused_urls(self, now: float) -> list[str]:
        for url in [u for u, until in self._paused.items() if until <= now]:
            del self._paused[url]
            self._probing.add(url)
        return list(self._paused)

    def _update(self, entry: OutboxEntry, outcome: DeliveryOutcome, now: float) -> OutboxUpdate:
        if outcome.status is not None and entry.url is not None:
            self._probing.discard(entry.url)  # the receiver answers
        if outcome.result == "delivered":
            logger.debug("webhook %s delivered to %s", entry.event_id, entry.url)
            return OutboxUpdate(entry.seq, "delivered", status=outcome.status)
        if outcome.result == "failed":
            logger.warning("webhook %s to %s failed: %s", entry.event_id, entry.url, outcome.error)
            return OutboxUpdate(entry.seq, "failed", status=outcome.status, error=outcome.error)
        attempts = entry.attempts + 1
        if attempts >= self.retry.max_attempts:
            logger.warning(
                "webhook %s to %s dead after %d attempts: %s",
                entry.event_id,
                entry.url,
                attempts,
                outcome.error,
            )
            return OutboxUpdate(entry.seq, "dead", status=outcome.status, error=outcome.error)
        due = now + self.retry.delay(attempts, outcome.retry_after)
        logger.info(
            "webhook %s to %s: %s; attempt %d in %.1f s",
            entry.event_id,
            entry.url,
            outcome.error,
            attempts + 1,
            due - now,
        )
        if entry.url is not None:
            self._paused[entry.url] = max(self._paused.get(entry.url, 0.0), due)
        return OutboxUpdate(
            entry.seq, "pending", next_attempt_at=due, status=outcome.status, error=outcome.error
        )

    async def deliver_due(self) -> int:
        """Run one round; returns how many entries were claimed."""
        entries = self.outbox.claim(
            limit=self.batch_size, lease=self.lease, exclude_urls=self._paused_urls(time.time())
        )
        if not entries:
            return 0
        gate = asyncio.Semaphore(self.concurrency)
        probes: set[str] = set()
        held: set[int] = set()
        for entry in entries:  # a destination that was down gets one probe, not a batch
            if entry.url in self._probing:
                if entry.url in probes:
                    held.add(entry.seq)
                probes.add(entry.url)

        async def attempt(entry: OutboxEntry) -> OutboxUpdate:
            async with gate:
                if entry.url is None:
                    return OutboxUpdate(entry.seq, "failed", error="no webhook URL")
                if entry.seq in held or self._paused.get(entry.url, 0.0) > time.time():
                    return OutboxUpdate(entry.seq, "pending", attempted=False)
                try:
                    outcome = await self.client.send(entry.url, entry.event_id, entry.body)
                except Exception as exc:  # unforeseen: recorded and retried, never fatal
                    logger.exception("webhook %s to %s raised", entry.event_id, entry.url)
                    outcome = DeliveryOutcome("retry", error=f"{type(exc).__name__}: {exc}")
                return self._update(entry, outcome, time.time())

        updates = await asyncio.gather(*(attempt(e) for e in entries))
        self.outbox.record(updates)
        return len(entries)

    async def run(self, *, stop: asyncio.Event | None = None, until_idle: bool = False) -> None:
        """Deliver until ``stop`` is set (or, with ``until_idle``, nothing is pending)."""
        stop = stop if stop is not None else asyncio.Event()
        while not stop.is_set():
            if await self.deliver_due():
                continue
            if until_idle and self.outbox.counts()["pending"] == 0:
                return
            now = time.time()
            due = self.outbox.next_due()
            waits = [self.poll_interval]
            if due is not None and due > now:
                waits.append(due - now)
            elif self._paused:
                waits.append(min(self._paused.values()) - now)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(0.01, min(waits)))
