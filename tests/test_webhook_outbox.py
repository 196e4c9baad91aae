"""The SQLite outbox, the retry schedule, the status classification and `WebhookSink`."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest

from trackcodec.config import TrackingConfig
from trackcodec.event import EventSink, TrackingEvent, new_event_id
from trackcodec.webhooks import (
    Outbox,
    OutboxUpdate,
    RetryPolicy,
    WebhookSink,
    classify_status,
    event_body,
    parse_retry_after,
)

MAIN = "https://hooks.example.com/main"
PARTNER = "https://partner.example.net/hook"


def _event(webhook_url: str | None = None) -> TrackingEvent:
    return TrackingEvent(
        id=new_event_id(),
        kind="open",
        timestamp=1_767_225_600.0,
        metadata={"c": 1},
        webhook_url=webhook_url,
    )


def _messages(n: int) -> list[tuple[str, str | None, bytes]]:
    return [(new_event_id(), MAIN, b'{"n":%d}' % i) for i in range(n)]


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    box = Outbox(tmp_path / "outbox.sqlite3")
    yield box  # type: ignore[misc]
    box.close()


def test_file_is_wal_and_versioned(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    Outbox(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("PRAGMA user_version").fetchone() == (1,)
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    with pytest.raises(sqlite3.DatabaseError, match="newer"):
        Outbox(path)


def test_add_is_committed_and_idempotent(outbox: Outbox, tmp_path: Path) -> None:
    messages = _messages(3)
    assert outbox.add(messages, now=100) == 3
    assert outbox.add(messages, now=200) == 0
    other = Outbox(outbox.path)  # another connection sees it: committed
    try:
        entries = other.entries()
    finally:
        other.close()
    assert [(e.event_id, e.url, e.body) for e in entries] == messages
    assert {e.state for e in entries} == {"pending"}
    assert all(e.created_at == 100 and e.attempts == 0 for e in entries)


def test_claim_leases_oldest_due_first(outbox: Outbox) -> None:
    outbox.add(_messages(5), now=100)
    first = outbox.claim(limit=2, lease=30, now=100)
    second = outbox.claim(limit=10, lease=30, now=101)
    assert [e.seq for e in first] == [1, 2]
    assert [e.seq for e in second] == [3, 4, 5]
    assert outbox.claim(limit=10, lease=30, now=110) == []
    # A crashed worker's leases expire.
    assert [e.seq for e in outbox.claim(limit=10, lease=30, now=131)] == [1, 2, 3, 4, 5]


def test_claim_skips_paused_urls(outbox: Outbox) -> None:
    outbox.add([(new_event_id(), MAIN, b"{}"), (new_event_id(), PARTNER, b"{}")], now=1)
    claimed = outbox.claim(limit=10, lease=5, now=2, exclude_urls=[MAIN])
    assert [e.url for e in claimed] == [PARTNER]


def test_record_outcomes(outbox: Outbox) -> None:
    outbox.add(_messages(4), now=100)
    a, b, c, d = outbox.claim(limit=4, lease=30, now=100)
    outbox.record(
        [
            OutboxUpdate(a.seq, "delivered", status=200),
            OutboxUpdate(b.seq, "pending", next_attempt_at=160, status=503, error="HTTP 503"),
            OutboxUpdate(c.seq, "failed", status=404, error="HTTP 404"),
            OutboxUpdate(d.seq, "pending", attempted=False),
        ],
        now=101,
    )
    states = {e.seq: e for e in outbox.entries()}
    assert (states[a.seq].state, states[a.seq].attempts, states[a.seq].last_status) == (
        "delivered",
        1,
        200,
    )
    assert (states[b.seq].state, states[b.seq].attempts, states[b.seq].next_attempt_at) == (
        "pending",
        1,
        160,
    )
    assert (states[c.seq].state, states[c.seq].last_error) == ("failed", "HTTP 404")
    assert (states[d.seq].state, states[d.seq].attempts) == ("pending", 0)
    assert outbox.counts() == {"pending": 2, "delivered": 1, "failed": 1, "dead": 0}
    assert [e.seq for e in outbox.claim(limit=9, lease=30, now=102)] == [d.seq]
    assert [e.seq for e in outbox.claim(limit=9, lease=30, now=160)] == [b.seq, d.seq]
    assert outbox.next_due() == 100


def test_replay_dead_and_failed(outbox: Outbox) -> None:
    outbox.add(_messages(3), now=1)
    a, b, c = outbox.claim(limit=3, lease=30, now=1)
    outbox.record(
        [
            OutboxUpdate(a.seq, "dead", error="HTTP 503"),
            OutboxUpdate(b.seq, "dead", error="HTTP 503"),
            OutboxUpdate(c.seq, "failed", status=410, error="HTTP 410"),
        ],
        now=2,
    )
    assert outbox.replay(event_ids=[b.event_id], now=3) == 1
    assert outbox.replay(now=3) == 1
    assert outbox.counts()["failed"] == 1
    assert outbox.replay(include_failed=True, now=3) == 1
    entries = outbox.entries()
    assert {e.state for e in entries} == {"pending"}
    assert {e.attempts for e in entries} == {0}
    assert outbox.replay(now=4) == 0


def test_purge_delivered(outbox: Outbox) -> None:
    outbox.add(_messages(2), now=1)
    a, b = outbox.claim(limit=2, lease=30, now=1)
    outbox.record([OutboxUpdate(a.seq, "delivered", status=204)], now=10)
    assert outbox.purge_delivered(older_than=100, now=50) == 0
    assert outbox.purge_delivered(older_than=10, now=50) == 1
    assert [e.seq for e in outbox.entries()] == [b.seq]


def test_retry_schedule_grows_with_jitter_and_cap() -> None:
    policy = RetryPolicy(initial=1.0, max_delay=60.0, jitter=0.5)
    for attempts, base in [(1, 1), (2, 2), (3, 4), (4, 8), (7, 60), (40, 60)]:
        delays = [policy.delay(attempts) for _ in range(50)]
        assert all(base <= d <= base + 0.5 for d in delays), (attempts, delays)
        assert len(set(delays)) > 1  # jitter
    assert RetryPolicy(initial=1, jitter=0).delay(1, retry_after=30) == 30
    assert RetryPolicy(initial=1, jitter=0, max_retry_after=10).delay(1, retry_after=1e9) == 10
    assert RetryPolicy(initial=8, jitter=0).delay(1, retry_after=2) == 8
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def test_retry_after_forms() -> None:
    now = 1_767_225_600.0
    date = format_datetime(datetime.fromtimestamp(now + 90, tz=timezone.utc), usegmt=True)
    assert parse_retry_after("120") == 120
    assert parse_retry_after(" 3 ") == 3
    assert parse_retry_after(date, now=now) == 90
    assert parse_retry_after(date, now=now + 1000) == 0
    for bad in (None, "", "soon", "-5", "1.5", "Mon, 99 Foo 2026 99:99:99 GMT"):
        assert parse_retry_after(bad) is None


@pytest.mark.parametrize(
    ("status", "result"),
    [
        (200, "delivered"),
        (202, "delivered"),
        (204, "delivered"),
        (301, "failed"),
        (400, "failed"),
        (401, "failed"),
        (404, "failed"),
        (410, "failed"),
        (408, "retry"),
        (429, "retry"),
        (500, "retry"),
        (502, "retry"),
        (503, "retry"),
    ],
)
def test_status_classification(status: int, result: str) -> None:
    outcome = classify_status(status, {"retry-after": "7"})
    assert outcome.result == result
    assert outcome.status == status
    assert outcome.retry_after == (7 if result == "retry" else None)


def test_sink_commits_with_destinations(tmp_path: Path) -> None:
    sink = WebhookSink(tmp_path / "o.sqlite3", url=MAIN, allowed_urls=[PARTNER])
    events = [_event(), _event(PARTNER), _event("https://attacker.example.org/")]
    sink.emit(events)
    sink.emit(events)  # a retried batch adds nothing
    sink.close()
    sink.close()
    box = Outbox(tmp_path / "o.sqlite3")
    try:
        entries = box.entries()
    finally:
        box.close()
    assert [e.event_id for e in entries] == [e.id for e in events]
    assert [e.url for e in entries] == [MAIN, PARTNER, MAIN]
    assert [e.body for e in entries] == [event_body(e) for e in events]
    assert json.loads(entries[1].body)["data"]["webhook_url"] == PARTNER


def test_sink_keeps_events_without_destination_as_failed(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3")
    sink = WebhookSink.from_config(TrackingConfig(), outbox)
    sink.emit([_event("https://attacker.example.org/")])
    sink.close()
    (entry,) = outbox.entries()
    assert (entry.state, entry.url, entry.last_error) == ("failed", None, "no allowed webhook URL")
    outbox.close()


def test_sink_satisfies_the_protocol(tmp_path: Path) -> None:
    sink: EventSink = WebhookSink(tmp_path / "o.sqlite3", url=MAIN)
    assert sink.durable is True
    sink.emit([])
    sink.close()


def test_outbox_needs_wal() -> None:
    with pytest.raises(sqlite3.OperationalError, match="WAL"):
        Outbox(":memory:")


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "not.sqlite3"
    path.write_bytes(b"this is not a database, just text" * 100)
    with pytest.raises(sqlite3.DatabaseError):
        Outbox(path)
