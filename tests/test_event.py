"""TrackingEvent and its UUIDv7 ids."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest
from pydantic import ValidationError

from trackcodec import TrackingEvent, new_event_id


def test_event_id_is_uuid7_with_the_time() -> None:
    value = uuid.UUID(new_event_id(now=1_700_000_000.123))
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert value.int >> 80 == 1_700_000_000_123


def test_event_ids_are_canonical_uuid_strings_with_distinct_random_bits() -> None:
    ids = [new_event_id(now=1_700_000_000.0) for _ in range(3000)]  # > one 4 KiB random pool
    assert all(str(uuid.UUID(i)) == i for i in ids)
    assert len({uuid.UUID(i).int & ((1 << 62) - 1) for i in ids}) == len(ids)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_a_forked_child_does_not_reuse_the_parents_random_bits() -> None:
    new_event_id()  # the parent's pool of random bytes is filled
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.write(write, new_event_id(now=1.0).encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert uuid.UUID(child).version == 7
    assert child != new_event_id(now=1.0)


def test_event_ids_increase_within_a_millisecond() -> None:
    ids = [new_event_id() for _ in range(5000)]  # far more than one per millisecond
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_an_explicit_time_is_never_moved_by_later_ids() -> None:
    new_event_id()  # the process's clock is now ahead of `now` below
    for _ in range(100):
        assert uuid.UUID(new_event_id(now=1_000.5)).int >> 80 == 1_000_500


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


def test_ids_stamped_with_the_current_time_stay_ordered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The endpoint stamps ids with the time it received the request: those must still
    # sort in the order they were made, even within one millisecond.
    monkeypatch.setattr("trackcodec.event._last_ms", 0)  # restored after the test
    now = time.time()
    ids = [new_event_id(now=now) for _ in range(2000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
