"""`WebhookSink`: the `EventSink` that writes events to the outbox."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from trackcodec.event import TrackingEvent
from trackcodec.webhooks._guard import DestinationPolicy
from trackcodec.webhooks._outbox import Outbox
from trackcodec.webhooks._signing import event_body

if TYPE_CHECKING:
    from trackcodec.config import TrackingConfig

__all__ = ["WebhookSink"]


class WebhookSink:
    """An `EventSink` that commits events to a webhook `Outbox` (durable).

    `emit` returns once the batch is committed to the outbox file; an
    `OutboxWorker` (``trackcodec events deliver``) posts them. Each event
    goes to the webhook its token names when that URL is allowed, else to
    ``url``; an event with neither is stored as ``failed`` (kept, never lost).
    Back-pressure: `emit` blocks while the file is locked by another writer,
    memory holds one batch at most.

    Args:
        outbox: An `Outbox`, or the path of its SQLite file (opened and
            closed by this sink).
        url: Default destination, the operator's receiver.
        allowed_urls: Other URLs a token may name (exact match).

    Raises:
        DestinationNotAllowed: A configured URL is not http(s).
    """

    durable = True

    def __init__(
        self,
        outbox: Outbox | str | os.PathLike[str],
        *,
        url: str | None = None,
        allowed_urls: Iterable[str] = (),
    ) -> None:
        self._owns_outbox = not isinstance(outbox, Outbox)
        self.outbox = outbox if isinstance(outbox, Outbox) else Outbox(outbox)
        # Addresses are checked when delivering (DNS may change), not here.
        self._destinations = DestinationPolicy(
            default_url=url, allowed_urls=allowed_urls, allow_private_addresses=True
        )
        self._closed = False

    @classmethod
    def from_config(
        cls, config: TrackingConfig, outbox: Outbox | str | os.PathLike[str]
    ) -> WebhookSink:
        """A sink posting to ``config.webhook_url`` and ``config.allowed_webhook_urls``."""
        return cls(outbox, url=config.webhook_url, allowed_urls=config.allowed_webhook_urls)

    def emit(self, events: Sequence[TrackingEvent], /) -> None:
        """Commit a batch of events to the outbox, in order (one transaction).

        Raises:
            sqlite3.Error: The write failed; nothing of the batch is committed.
        """
        messages = []
        failed = []
        for event in events:
            url = self._destinations.choose(event.webhook_url)
            messages.append((event.id, url, event_body(event)))
            if url is None:
                failed.append((event.id, "no allowed webhook URL"))
        self.outbox.add(messages, failed=failed)

    def close(self) -> None:
        """Close the outbox if this sink opened it. Idempotent."""
        if not self._closed and self._owns_outbox:
            self.outbox.close()
        self._closed = True
