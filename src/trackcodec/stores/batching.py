"""`BatchingSink` (group commit with back-pressure) and `CallableSink`."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from typing import Any

from trackcodec._closing import ClosingContext
from trackcodec.event import EventSink, TrackingEvent
from trackcodec.stores.errors import SinkOverloaded

__all__ = ["BatchingSink", "CallableSink"]


class CallableSink:
    """An `EventSink` that hands each batch to a callable: a Celery task, a queue...

    ```python
    import queue
    from trackcodec.stores import CallableSink

    q: queue.Queue[list] = queue.Queue()
    sink = CallableSink(q.put)
    ```

    Args:
        fn: Called with a list of `TrackingEvent` per `emit`, in the caller's
            thread. Whatever it raises, `emit` raises.
        durable: Declare ``True`` only when ``fn`` returns after the events
            are safely stored (e.g. a broker publish with confirms).
        on_close: Called once by `close`, if given.

    Attributes:
        durable: As declared.
    """

    def __init__(
        self,
        fn: Callable[[list[TrackingEvent]], object],
        *,
        durable: bool = False,
        on_close: Callable[[], object] | None = None,
    ) -> None:
        self._fn = fn
        self.durable = durable
        self._on_close = on_close
        self._closed = False

    def emit(self, events: Sequence[TrackingEvent], /) -> None:
        """Call ``fn`` with the batch (nothing for an empty batch)."""
        if events:
            self._fn(list(events))

    def close(self) -> None:
        """Call ``on_close`` the first time. Idempotent."""
        if not self._closed:
            self._closed = True
            if self._on_close is not None:
                self._on_close()


# The second element is the event's Future (submit, emit), or the tag given to
# submit_tagged (reported to on_batch).
_Item = tuple[TrackingEvent, Any, float]


class BatchingSink(ClosingContext):
    """Group commit in front of another sink, with a bounded queue.

    Callers queue events (`submit` for one event and a future, `emit` for a
    batch it waits for); one background thread takes everything queued, up
    to ``max_batch`` events, and hands it to the inner sink's ``emit`` in one
    call (one transaction in the SQL stores). While a commit runs, new events
    gather for the next one, so under load many requests share one commit
    (one ``fsync``) and at low load an event waits for nothing.

    A future resolves once the inner ``emit`` returned for the batch holding
    its event: a server acknowledges a request only then. When a batch
    fails, its events are retried one by one so that one bad event cannot
    fail the others; a future whose event still fails gets the exception.

    Back-pressure: at most ``max_queue`` events wait. `submit` never blocks
    (it suits an event loop) and raises `SinkOverloaded` at once when the
    queue is full; `emit` waits up to ``overload_timeout`` seconds for room,
    then raises `SinkOverloaded`. Memory stays bounded whatever the inner
    sink's speed.

    Args:
        inner: The sink that stores the batches (e.g. `SQLiteEventStore`).
        max_batch: Most events per inner ``emit``.
        max_delay: Seconds the thread waits for more events before
            committing a batch smaller than ``max_batch``. ``0`` (default)
            commits at once what is there: batches still form under load
            while the previous commit runs.
        max_queue: Most events waiting to be committed.
        overload_timeout: Seconds `emit` waits for room in a full queue.
        on_batch: Called in the committing thread once per batch with the
            ``(tag, error)`` pairs of the events queued by `submit_tagged`
            (``error`` is ``None`` for a committed event): one call per batch
            instead of one future per event (an event loop resolves its own
            futures from it).

    Attributes:
        durable: The inner sink's: `emit` returns after the inner commit.
    """

    def __init__(
        self,
        inner: EventSink,
        *,
        max_batch: int = 500,
        max_delay: float = 0.0,
        max_queue: int = 10_000,
        overload_timeout: float = 5.0,
        on_batch: Callable[[list[tuple[Any, BaseException | None]]], object] | None = None,
    ) -> None:
        if max_batch < 1 or max_queue < 1:
            raise ValueError("max_batch and max_queue must be at least 1")
        if max_delay < 0 or overload_timeout < 0:
            raise ValueError("max_delay and overload_timeout must be >= 0")
        self.inner = inner
        self.durable = inner.durable
        self.max_batch = max_batch
        self.max_delay = max_delay
        self.max_queue = max_queue
        self.overload_timeout = overload_timeout
        self._on_batch = on_batch
        self._queue: deque[_Item] = deque()
        self._cond = threading.Condition()
        self._in_flight = 0
        self._closing = False
        self._closed = False
        self.committed = 0
        """Events committed through this sink so far."""
        self.failed = 0
        """Events whose commit failed (their futures hold the exception)."""
        self.batches = 0
        """Batches handed to the inner sink (``committed / batches`` is the mean batch)."""
        self._thread = threading.Thread(
            target=self._run, name="trackcodec-batching-sink", daemon=True
        )
        self._thread.start()

    # -- producers ---------------------------------------------------------------------

    def _put(self, event: TrackingEvent, timeout: float) -> Future[None]:
        future: Future[None] = Future()
        self._append(event, future, timeout)
        return future

    def _append(self, event: TrackingEvent, waiter: Any, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if self._closing:
                    raise RuntimeError("the BatchingSink is closed")
                if len(self._queue) < self.max_queue:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SinkOverloaded(
                        f"{len(self._queue)} events are waiting to be committed "
                        f"(max_queue={self.max_queue})"
                    )
                self._cond.wait(remaining)
            self._queue.append((event, waiter, time.monotonic()))
            self._cond.notify_all()

    def submit(self, event: TrackingEvent) -> Future[None]:
        """Queue one event; the future resolves when its batch is committed.

        Never blocks. In asyncio, ``await asyncio.wrap_future(sink.submit(e))``.

        Raises:
            SinkOverloaded: The queue is full; the event was not queued.
            RuntimeError: The sink is closed.
        """
        return self._put(event, 0.0)

    def submit_tagged(self, event: TrackingEvent, tag: object) -> None:
        """Queue one event without a future: ``on_batch`` reports ``tag`` after its commit.

        Never blocks. Cheaper than `submit` (no future, no lock per event on
        completion).

        Raises:
            SinkOverloaded: The queue is full; the event was not queued.
            RuntimeError: The sink is closed, or was built without ``on_batch``.
        """
        if self._on_batch is None:
            raise RuntimeError("submit_tagged needs a BatchingSink built with on_batch")
        self._append(event, tag, 0.0)

    def emit(self, events: Sequence[TrackingEvent], /) -> None:
        """Queue a batch and return once all of it is committed.

        Raises:
            SinkOverloaded: No room for an event within ``overload_timeout``;
                the events queued before it are still committed.
            Exception: What the inner sink raised for an event.
        """
        futures = [self._put(event, self.overload_timeout) for event in events]
        for future in futures:
            future.result()

    @property
    def pending(self) -> int:
        """Events queued or being committed."""
        with self._cond:
            return len(self._queue) + self._in_flight

    def lag(self, *, now: float | None = None) -> float:
        """Seconds the oldest queued event has waited (``0.0`` when none waits).

        Args:
            now: A ``time.monotonic()`` reading to use instead of the clock.
        """
        with self._cond:
            if not self._queue:
                return 0.0
            oldest = self._queue[0][2]
        return max(0.0, (time.monotonic() if now is None else now) - oldest)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far is committed; return whether it was."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._queue or self._in_flight:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def close(self) -> None:
        """Refuse new events, commit the queued ones, stop the thread, close the inner sink.

        Idempotent.
        """
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._closing = True
            self._cond.notify_all()
        self._thread.join()
        self.inner.close()

    # -- the committing thread ---------------------------------------------------------

    def _take(self) -> list[_Item] | None:
        with self._cond:
            while not self._queue:
                if self._closing:
                    return None
                self._cond.wait()
            if self.max_delay and len(self._queue) < self.max_batch and not self._closing:
                deadline = time.monotonic() + self.max_delay
                while len(self._queue) < self.max_batch and not self._closing:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
            n = min(self.max_batch, len(self._queue))
            batch = [self._queue.popleft() for _ in range(n)]
            self._in_flight = n
            self._cond.notify_all()  # room for producers waiting in emit
            return batch

    def _run(self) -> None:
        batch: list[_Item] | None = None
        try:
            while (batch := self._take()) is not None:
                results = self._commit(batch)
                tagged: list[tuple[Any, BaseException | None]] = []
                with self._cond:
                    self.batches += 1
                    self._in_flight = 0
                    for (_, waiter, _), error in zip(batch, results, strict=True):
                        if error is None:
                            self.committed += 1
                        else:
                            self.failed += 1
                        if isinstance(waiter, Future):
                            _resolve(waiter, error)
                        else:
                            tagged.append((waiter, error))
                    batch = None
                    self._cond.notify_all()
                if tagged and self._on_batch is not None:
                    self._on_batch(tagged)
        except BaseException as exc:
            # The inner sink raised something that is not an Exception (SystemExit...):
            # refuse new events and fail every waiting future rather than leave it hanging.
            stopped = RuntimeError(f"the BatchingSink thread stopped: {exc!r}")
            with self._cond:
                self._closing = True
                stranded = [*(batch or []), *self._queue]
                self._queue.clear()
                self._in_flight = 0
                tagged = []
                for _, waiter, _ in stranded:
                    self.failed += 1
                    if isinstance(waiter, Future):
                        _resolve(waiter, stopped)
                    else:
                        tagged.append((waiter, stopped))
                self._cond.notify_all()
            if tagged and self._on_batch is not None:
                self._on_batch(tagged)

    def _commit(self, batch: list[_Item]) -> list[BaseException | None]:
        try:
            self.inner.emit([event for event, _, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                return [exc]
        else:
            return [None] * len(batch)
        results: list[BaseException | None] = []
        for event, _, _ in batch:
            try:
                self.inner.emit([event])
            except Exception as exc:
                results.append(exc)
            else:
                results.append(None)
        return results


def _resolve(future: Future[None], error: BaseException | None) -> None:
    try:
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
    except InvalidStateError:  # the caller cancelled it; the event is stored anyway
        pass
