"""TrackingEvent and its UUIDv7 ids."""

from __future__ import annotations

import threading
import uuid

import pytest
from pydantic import ValidationError

from trackcodec import TrackingEvent, event, new_event_id
from trackcodec import event as event_module


@pytest.fixture(autouse=True)
def _fresh_id_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids never go back in time within a process: earlier tests (the serving
    tests build events) may have stamped later times than these tests use."""
    monkeypatch.setattr(event, "_last_ms", 0)
    monkeypatch.setattr(event, "_last_counter", 0)


def test_event_id_is_uuid7_with_the_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # Ids never go back in time within a process: start from a fresh generator, since
    # other test modules may already have made ids stamped later than this `now`.
    monkeypatch.setattr(event_module, "_last_ms", 0)
    value = uuid.UUID(new_event_id(now=1_700_000_000.123))
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert value.int >> 80 == 1_700_000_000_123


def test_event_ids_increase_within_a_millisecond() -> None:
    ids = [new_event_id(now=1_800_000_000.0) for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_event_ids_unique_across_threads() -> None:
    found: list[str] = []

    def work() -> None:
        local = [new_event_id() for _ in range(2000)]
        found.extend(local)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(found)) == 8000


def test_event_json_round_trip() -> None:
    event = TrackingEvent(
        id=new_event_id(),
        kind="click",
        timestamp=1.5,
        tracked_url="https://example.com/",
        metadata={"customer_id": 1, "tags": ["a"]},
        client_ip="203.0.113.9",
        likely="machine",
        machine_reason="head-request",
    )
    assert TrackingEvent.model_validate_json(event.model_dump_json()) == event
    assert event.is_machine


def test_event_is_frozen_and_strict_about_fields() -> None:
    event = TrackingEvent(id=new_event_id(), kind="open", timestamp=0.0, metadata={})
    with pytest.raises(ValidationError):
        event.kind = "click"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        TrackingEvent(id="x", kind="open", timestamp=0.0, metadata={}, extra=1)  # type: ignore[call-arg]
