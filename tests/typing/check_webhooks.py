"""Type-checked (not run) usage of `trackcodec.webhooks`: `mypy --strict` keeps it green.

`WebhookSink` must satisfy the `EventSink` protocol structurally.
"""

from __future__ import annotations

import asyncio

from typing_extensions import assert_type

from trackcodec import TrackingConfig
from trackcodec.compat.pytracking import TrackingResult
from trackcodec.compat.pytracking.webhook import send_webhook
from trackcodec.event import EventSink, TrackingEvent
from trackcodec.webhooks import (
    AsyncWebhookClient,
    DeliveryOutcome,
    DestinationPolicy,
    Outbox,
    OutboxEntry,
    OutboxWorker,
    RetryPolicy,
    WebhookClient,
    WebhookSink,
    event_body,
)


def sinks(config: TrackingConfig, events: list[TrackingEvent]) -> None:
    sink: EventSink = WebhookSink.from_config(config, "outbox.sqlite3")
    sink.emit(events)
    sink.close()
    other: EventSink = WebhookSink(Outbox("outbox.sqlite3"), url="https://hooks.example.com/")
    other.close()


def clients(secret: str, event: TrackingEvent) -> None:
    policy = DestinationPolicy(allowed_urls=["https://hooks.example.com/"])
    with WebhookClient([secret], policy=policy, timeout=2.0) as client:
        assert_type(client.send_event("https://hooks.example.com/", event), DeliveryOutcome)
        assert_type(
            client.send("https://hooks.example.com/", event.id, event_body(event)), DeliveryOutcome
        )


async def worker(secret: str, stop: asyncio.Event) -> None:
    outbox = Outbox("outbox.sqlite3", synchronous="NORMAL")
    assert_type(outbox.entries("dead"), list[OutboxEntry])
    async with AsyncWebhookClient(secret) as client:
        await OutboxWorker(outbox, client, retry=RetryPolicy(max_attempts=3)).run(stop=stop)
    assert_type(RetryPolicy().delay(2, retry_after=None), float)


def compat(result: TrackingResult) -> None:
    response = send_webhook(result, webhook_timeout_seconds=3)
    assert_type(response.status_code, int)
