"""Signed, retried, durable webhook delivery of tracking events (``trackcodec[webhooks]``).

The flow: a tracking endpoint hands `TrackingEvent`s to a `WebhookSink`,
which commits them to an `Outbox` (a SQLite file in WAL mode); an
`OutboxWorker` (``trackcodec events deliver``) posts each one, signed per
Standard Webhooks (`WebhookSigner`), retries with exponential backoff and
jitter (`RetryPolicy`), and dead-letters what never gets through.
`DestinationPolicy` decides where events may go (allow-list, SSRF guard).

Importing this package imports no optional dependency; ``httpx``,
``standardwebhooks`` and ``tenacity`` are imported when first used.
"""

from __future__ import annotations

from trackcodec.webhooks._client import (
    AsyncWebhookClient,
    DeliveryOutcome,
    WebhookClient,
    classify_status,
)
from trackcodec.webhooks._errors import (
    DestinationNotAllowed,
    DestinationUnresolvable,
    WebhookError,
)
from trackcodec.webhooks._guard import DestinationPolicy, Resolver
from trackcodec.webhooks._outbox import Outbox, OutboxEntry, OutboxState, OutboxUpdate
from trackcodec.webhooks._retry import RetryPolicy, parse_retry_after
from trackcodec.webhooks._signing import WebhookSigner, event_body, generate_secret
from trackcodec.webhooks._sink import WebhookSink
from trackcodec.webhooks._worker import OutboxWorker

__all__ = [
    "AsyncWebhookClient",
    "DeliveryOutcome",
    "DestinationNotAllowed",
    "DestinationPolicy",
    "DestinationUnresolvable",
    "Outbox",
    "OutboxEntry",
    "OutboxState",
    "OutboxUpdate",
    "OutboxWorker",
    "Resolver",
    "RetryPolicy",
    "WebhookClient",
    "WebhookError",
    "WebhookSigner",
    "WebhookSink",
    "classify_status",
    "event_body",
    "generate_secret",
    "parse_retry_after",
]
