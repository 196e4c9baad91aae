"""Property: whatever a real receiver answers, every event ends in exactly one final state.

Hypothesis draws the receiver's answers; the worker delivers a real outbox to
it on loopback. Invariants: nothing stays pending or is lost, `delivered` is
exactly what the receiver accepted, `failed` is a final 4xx, `dead` used
every attempt on retryable answers, and the receiver saw every attempt.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trackcodec.event import TrackingEvent, new_event_id
from trackcodec.webhooks import (
    AsyncWebhookClient,
    DestinationPolicy,
    Outbox,
    OutboxWorker,
    RetryPolicy,
    WebhookSink,
    generate_secret,
)
from webhook_receiver import Receiver

SECRET = generate_secret()
ATTEMPTS = 3
STATUSES = st.sampled_from([200, 201, 204, 400, 401, 404, 408, 409, 410, 422, 429, 500, 502, 503])


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(
    answers=st.lists(STATUSES, min_size=1, max_size=40),
    n=st.integers(min_value=1, max_value=12),
    concurrency=st.integers(min_value=1, max_value=4),
)
def test_every_event_ends_final_and_accounted(answers: list[int], n: int, concurrency: int) -> None:
    receiver = Receiver(SECRET)
    receiver.script = lambda number: (answers[number % len(answers)], {})
    receiver.start()
    events = [
        TrackingEvent(id=new_event_id(), kind="open", timestamp=time.time(), metadata={"i": i})
        for i in range(n)
    ]
    with tempfile.TemporaryDirectory() as directory:
        outbox = Outbox(Path(directory) / "o.sqlite3", synchronous="NORMAL")
        WebhookSink(outbox, url=receiver.url).emit(events)

        async def work() -> None:
            async with AsyncWebhookClient(
                SECRET, policy=DestinationPolicy(allow_private_addresses=True)
            ) as client:
                worker = OutboxWorker(
                    outbox,
                    client,
                    retry=RetryPolicy(max_attempts=ATTEMPTS, initial=0, jitter=0),
                    batch_size=5,
                    concurrency=concurrency,
                    poll_interval=0.01,
                )
                await asyncio.wait_for(worker.run(until_idle=True), 30)

        try:
            asyncio.run(work())
        finally:
            receiver.stop()
        entries = {e.event_id: e for e in outbox.entries(limit=100)}
        outbox.close()

    assert set(entries) == {e.id for e in events}
    assert {e.state for e in entries.values()} <= {"delivered", "failed", "dead"}
    delivered = {i for i, e in entries.items() if e.state == "delivered"}
    assert set(receiver.delivered) == delivered
    assert all(count == 1 for count in receiver.delivered.values())
    assert receiver.requests == sum(e.attempts for e in entries.values())
    assert receiver.bad_signatures == 0
    for entry in entries.values():
        assert 1 <= entry.attempts <= ATTEMPTS
        assert entry.last_status is not None
        if entry.state == "delivered":
            assert 200 <= entry.last_status < 300
        elif entry.state == "failed":
            assert 400 <= entry.last_status < 500
            assert entry.last_status not in (408, 429)
        else:
            assert entry.attempts == ATTEMPTS
            assert entry.last_status in (408, 429) or entry.last_status >= 500
