"""BatchingSink (group commit, back-pressure, failure isolation) and CallableSink."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from store_support import event
from trackcodec.event import EventSink, TrackingEvent
from trackcodec.stores import BatchingSink, CallableSink, SinkOverloaded, SQLiteEventStore

WAIT = 30.0  # generous upper bound on waits that should take milliseconds


class GatedSink:
    """An inner sink that records batches and, while the gate is closed, blocks in emit."""

    durable = True

    def __init__(self, *, fail_ids: frozenset[str] = frozenset()) -> None:
        self.batches: list[list[TrackingEvent]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.fail_ids = fail_ids
        self.closed = 0

    def emit(self, events: Sequence[TrackingEvent], /) -> None:
        self.entered.set()
        assert self.gate.wait(WAIT)
        if any(e.id in self.fail_ids for e in events):
            raise RuntimeError("bad event")
        self.batches.append(list(events))

    def close(self) -> None:
        self.closed += 1


def test_gated_sink_is_an_event_sink() -> None:
    sink: EventSink = GatedSink()
    assert sink.durable


def test_submit_resolves_after_the_commit(tmp_path: Path) -> None:
    store = SQLiteEventStore(tmp_path / "e.sqlite3")
    with BatchingSink(store) as sink:
        assert sink.durable
        e = event()
        sink.submit(e).result(WAIT)
        assert list(store.events()) == [e]  # committed when the future resolved
        batch = [event() for _ in range(50)]
        sink.emit(batch)
        assert store.count() == 51
    assert sink.committed == 51


def test_events_queued_during_a_commit_share_the_next_one() -> None:
    inner = GatedSink()
    inner.gate.clear()
    sink = BatchingSink(inner, max_batch=100)
    first = sink.submit(event())
    assert inner.entered.wait(WAIT)  # the thread is inside the first commit
    rest = [event() for _ in range(20)]
    futures = [sink.submit(e) for e in rest]
    assert not first.done()
    inner.gate.set()
    for f in [first, *futures]:
        f.result(WAIT)
    assert [len(b) for b in inner.batches] == [1, 20]  # one commit for all 20
    assert inner.batches[1] == rest  # in order
    sink.close()


def test_max_batch_splits_batches() -> None:
    inner = GatedSink()
    inner.gate.clear()
    sink = BatchingSink(inner, max_batch=8)
    sink.submit(event())
    assert inner.entered.wait(WAIT)
    futures = [sink.submit(event()) for _ in range(20)]
    inner.gate.set()
    for f in futures:
        f.result(WAIT)
    assert [len(b) for b in inner.batches] == [1, 8, 8, 4]
    sink.close()


def test_max_delay_gathers_a_batch() -> None:
    inner = GatedSink()
    sink = BatchingSink(inner, max_batch=5, max_delay=WAIT)
    # With a long delay the thread waits for a full batch of five.
    futures = [sink.submit(event()) for _ in range(5)]
    for f in futures:
        f.result(WAIT)
    assert [len(b) for b in inner.batches] == [5]
    sink.close()


def test_back_pressure_bounds_the_queue() -> None:
    inner = GatedSink()
    inner.gate.clear()
    sink = BatchingSink(inner, max_batch=1, max_queue=3, overload_timeout=0.05)
    accepted = [sink.submit(event())]
    assert inner.entered.wait(WAIT)  # one event in flight, the queue empty
    accepted += [sink.submit(event()) for _ in range(3)]
    assert sink.pending == 4
    refused = event()
    with pytest.raises(SinkOverloaded, match="max_queue=3"):
        sink.submit(refused)
    with pytest.raises(SinkOverloaded):
        sink.emit([refused])  # waits overload_timeout for room, then gives up
    assert sink.lag() > 0
    inner.gate.set()
    for f in accepted:
        f.result(WAIT)
    assert sink.flush(WAIT)
    assert sink.pending == 0
    assert sink.lag() == 0.0
    stored = [e.id for b in inner.batches for e in b]
    assert refused.id not in stored
    assert len(stored) == 4
    sink.close()


def test_emit_waits_for_room_instead_of_failing() -> None:
    inner = GatedSink()
    inner.gate.clear()
    sink = BatchingSink(inner, max_batch=2, max_queue=2, overload_timeout=WAIT)
    sink.submit(event())
    assert inner.entered.wait(WAIT)
    batch = [event() for _ in range(7)]  # more than the queue holds
    done = threading.Event()

    def produce() -> None:
        sink.emit(batch)
        done.set()

    producer = threading.Thread(target=produce)
    producer.start()
    assert not done.wait(0.05)  # blocked: the queue is full and the inner sink stuck
    inner.gate.set()
    producer.join(WAIT)
    assert done.is_set()
    assert [e for b in inner.batches for e in b][1:] == batch
    sink.close()


def test_one_bad_event_does_not_fail_its_batch() -> None:
    bad = event()
    inner = GatedSink(fail_ids=frozenset({bad.id}))
    inner.gate.clear()
    sink = BatchingSink(inner)
    sink.submit(event()).add_done_callback(lambda _: None)
    assert inner.entered.wait(WAIT)
    good = [event() for _ in range(4)]
    futures = [sink.submit(e) for e in (good[0], good[1], bad, good[2], good[3])]
    inner.gate.set()
    assert sink.flush(WAIT)
    with pytest.raises(RuntimeError, match="bad event"):
        futures[2].result(WAIT)
    for f in futures[:2] + futures[3:]:
        assert f.result(WAIT) is None
    assert [e for b in inner.batches[1:] for e in b] == good
    assert (sink.committed, sink.failed) == (5, 1)
    sink.close()


def test_emit_raises_what_the_inner_sink_raised() -> None:
    bad = event()
    sink = BatchingSink(GatedSink(fail_ids=frozenset({bad.id})))
    with pytest.raises(RuntimeError, match="bad event"):
        sink.emit([bad])
    sink.close()


def test_close_commits_what_is_queued_then_refuses() -> None:
    inner = GatedSink()
    inner.gate.clear()
    sink = BatchingSink(inner)
    futures = [sink.submit(event()) for _ in range(10)]
    assert inner.entered.wait(WAIT)
    closer = threading.Thread(target=sink.close)
    closer.start()
    inner.gate.set()
    closer.join(WAIT)
    assert all(f.result(0) is None for f in futures)
    assert sum(len(b) for b in inner.batches) == 10
    assert inner.closed == 1
    with pytest.raises(RuntimeError, match="closed"):
        sink.submit(event())
    sink.close()  # idempotent
    assert inner.closed == 1


def test_a_cancelled_future_still_stores_its_event() -> None:
    inner = GatedSink()
    inner.gate.clear()
    sink = BatchingSink(inner)
    sink.submit(event())
    assert inner.entered.wait(WAIT)
    e = event()
    future = sink.submit(e)
    assert future.cancel()
    inner.gate.set()
    assert sink.flush(WAIT)
    assert e in [x for b in inner.batches for x in b]
    sink.close()


def test_submit_from_asyncio() -> None:
    inner = GatedSink()
    sink = BatchingSink(inner)

    async def main() -> None:
        await asyncio.gather(*(asyncio.wrap_future(sink.submit(event())) for _ in range(30)))

    asyncio.run(main())
    assert sum(len(b) for b in inner.batches) == 30
    sink.close()


@pytest.mark.parametrize(
    "kwargs",
    [{"max_batch": 0}, {"max_queue": 0}, {"max_delay": -1}, {"overload_timeout": -1}],
)
def test_bad_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        BatchingSink(GatedSink(), **kwargs)  # type: ignore[arg-type]


def test_callable_sink() -> None:
    received: list[list[TrackingEvent]] = []
    closed: list[bool] = []
    sink = CallableSink(received.append, on_close=lambda: closed.append(True))
    assert not sink.durable
    assert CallableSink(received.append, durable=True).durable
    batch = (event(), event())
    sink.emit(batch)
    sink.emit([])
    assert received == [list(batch)]
    sink.close()
    sink.close()
    assert closed == [True]


def test_callable_sink_behind_a_batching_sink() -> None:
    received: list[list[TrackingEvent]] = []
    with BatchingSink(CallableSink(received.append)) as sink:
        assert not sink.durable
        sink.emit([event() for _ in range(3)])
    assert sum(len(b) for b in received) == 3


class Dying(GatedSink):
    def emit(self, events: Sequence[TrackingEvent], /) -> None:
        super().emit(events)
        raise SystemExit("inner sink exited")


def test_futures_fail_instead_of_hanging_when_the_thread_dies() -> None:
    inner = Dying()
    inner.gate.clear()
    sink = BatchingSink(inner)
    first = sink.submit(event())
    assert inner.entered.wait(WAIT)
    queued = sink.submit(event())
    inner.gate.set()
    for f in (first, queued):
        with pytest.raises(RuntimeError, match="thread stopped"):
            f.result(WAIT)
    sink._thread.join(WAIT)
    with pytest.raises(RuntimeError, match="closed"):
        sink.submit(event())
    assert sink.failed == 2
    sink.close()


def test_many_threads_through_a_real_store(tmp_path: Path) -> None:
    store = SQLiteEventStore(tmp_path / "e.sqlite3")
    sink = BatchingSink(store, max_queue=64, overload_timeout=WAIT)
    events = [event() for _ in range(16 * 50)]

    def produce(k: int) -> None:
        for e in events[k * 50 : (k + 1) * 50]:
            sink.emit([e])

    threads = [threading.Thread(target=produce, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    sink.close()
    with SQLiteEventStore(tmp_path / "e.sqlite3") as check:
        stored = [e.id for e in check.events()]
    assert sorted(stored) == sorted(e.id for e in events)
    assert sink.batches < len(events)  # commits were shared


class Reports:
    """Collects what on_batch reports, with an event per call."""

    def __init__(self) -> None:
        self.calls: list[list[tuple[object, BaseException | None]]] = []
        self.changed = threading.Condition()

    def __call__(self, results: list[tuple[object, BaseException | None]]) -> None:
        with self.changed:
            self.calls.append(results)
            self.changed.notify_all()

    def wait_for(self, n: int) -> list[tuple[object, BaseException | None]]:
        with self.changed:
            assert self.changed.wait_for(lambda: sum(map(len, self.calls)) >= n, WAIT)
            return [pair for call in self.calls for pair in call]


def test_submit_tagged_reports_each_batch_once_after_its_commit() -> None:
    inner = GatedSink()
    inner.gate.clear()
    reports = Reports()
    sink = BatchingSink(inner, max_batch=100, on_batch=reports)
    sink.submit_tagged(event(), "first")
    assert inner.entered.wait(WAIT)
    tags = [f"t{i}" for i in range(20)]
    for tag in tags:
        sink.submit_tagged(event(), tag)
    plain = sink.submit(event())  # futures and tags mix in one batch
    assert reports.calls == []  # nothing is reported before its commit
    inner.gate.set()
    pairs = reports.wait_for(21)
    plain.result(WAIT)
    assert pairs == [("first", None), *((t, None) for t in tags)]
    assert [len(c) for c in reports.calls] == [1, 20]  # one call per batch
    assert [len(b) for b in inner.batches] == [1, 21]
    sink.close()


def test_submit_tagged_reports_the_error_of_a_failed_event() -> None:
    bad = event()
    reports = Reports()
    sink = BatchingSink(GatedSink(fail_ids=frozenset({bad.id})), on_batch=reports)
    sink.submit_tagged(bad, "bad")
    (pair,) = reports.wait_for(1)
    assert pair[0] == "bad"
    assert isinstance(pair[1], RuntimeError)
    assert sink.failed == 1
    sink.close()
    with pytest.raises(RuntimeError, match="closed"):
        sink.submit_tagged(event(), "late")


def test_submit_tagged_needs_on_batch() -> None:
    with BatchingSink(GatedSink()) as sink, pytest.raises(RuntimeError, match="on_batch"):
        sink.submit_tagged(event(), "x")


def test_tagged_events_fail_instead_of_hanging_when_the_thread_dies() -> None:
    inner = Dying()
    inner.gate.clear()
    reports = Reports()
    sink = BatchingSink(inner, on_batch=reports)
    sink.submit_tagged(event(), 1)
    assert inner.entered.wait(WAIT)
    sink.submit_tagged(event(), 2)
    inner.gate.set()
    pairs = reports.wait_for(2)
    assert [tag for tag, _ in pairs] == [1, 2]
    assert all(isinstance(error, RuntimeError) for _, error in pairs)
    sink.close()
