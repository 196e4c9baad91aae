"""`TrackingServer`: the ASGI application behind ``trackcodec serve``.

Open and click requests take a short path: the endpoint core (pure) turns the
request into a response and an event, the event goes to a `BatchingSink`
(group commit) in front of the event store, and the response is sent once
the event's batch is committed (``ack="commit"``, the default). Every other
path goes to a small Starlette application: ``/healthz``, ``/readyz``,
``/metrics`` and ``/stats``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from trackcodec._deps import require
from trackcodec.config import TrackingConfig
from trackcodec.endpoint import EndpointRequest, EndpointResponse, TrackingEndpoint
from trackcodec.errors import ConfigurationError
from trackcodec.event import EventSink, TrackingEvent
from trackcodec.server._metrics import CONTENT_TYPE, Metrics
from trackcodec.server.settings import ServerSettings
from trackcodec.stores import (
    BatchingSink,
    EventStore,
    SinkOverloaded,
    SQLiteEventStore,
    open_store,
)
from trackcodec.tracking import Tracker

__all__ = ["TrackingServer", "tracking_paths"]

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_starlette = require("starlette", package="starlette", extra="server", feature="trackcodec serve")

from starlette.applications import Starlette  # noqa: E402 - after the dependency check
from starlette.concurrency import run_in_threadpool  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import PlainTextResponse, Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

_UNAVAILABLE_HEADERS = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"retry-after", b"1"),
    (b"cache-control", b"no-store"),
]
_UNAVAILABLE_BODY = b"Temporarily unavailable, please retry.\n"


def _prefix(path: str) -> str:
    return path if path.endswith("/") else path + "/"


def tracking_paths(config: TrackingConfig, settings: ServerSettings) -> tuple[str, str]:
    """The URL path prefixes (open, click) the server answers tracking requests on.

    The settings' ``open_path``/``click_path`` when set, else the paths of the
    tracker's base URLs, else ``/o/`` and ``/c/``.
    """

    def pick(explicit: str | None, base: str | None, default: str) -> str:
        if explicit is not None:
            return _prefix(explicit)
        if base is not None:
            path = urlsplit(base).path
            if path and path != "/":
                return _prefix(path)
        return default

    return (
        pick(settings.open_path, config.base_open_tracking_url, "/o/"),
        pick(settings.click_path, config.base_click_tracking_url, "/c/"),
    )


class _TurnTakingSink:
    """Writers of one SQLite file (the server's workers) take turns on a blocking file lock.

    SQLite's own busy handler polls with sleeps of up to 100 ms, so workers
    committing at once would wait long after the lock is free (measured: p99
    over 400 ms with 2 workers); ``flock`` wakes the next writer at once.
    """

    def __init__(self, store: SQLiteEventStore) -> None:
        self.store = store
        self.durable = store.durable
        self._fd = os.open(f"{store.path}.writer-lock", os.O_RDWR | os.O_CREAT, 0o600)

    def emit(self, events: Sequence[TrackingEvent], /) -> None:
        assert fcntl is not None
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            self.store.emit(events)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        try:
            self.store.close()
        finally:
            with contextlib.suppress(OSError):
                os.close(self._fd)


class _StoreAndOutbox:
    """Commits a batch to the event store, then the events to notify to the webhook outbox.

    A batch is acknowledged only once both commits returned; both are keyed by
    the event id, so a retried batch stores nothing twice.
    """

    def __init__(self, store: EventSink, outbox: EventSink, *, every_event: bool) -> None:
        self.store = store
        self.outbox = outbox
        self.durable = store.durable and outbox.durable
        self._every_event = every_event

    def emit(self, events: Sequence[TrackingEvent], /) -> None:
        self.store.emit(events)
        notify = [e for e in events if self._every_event or e.webhook_url is not None]
        if notify:
            self.outbox.emit(notify)

    def close(self) -> None:
        try:
            self.store.close()
        finally:
            self.outbox.close()


class TrackingServer:
    """The ASGI application of ``trackcodec serve``.

    Args:
        tracker: Decodes the tokens (its keys and settings).
        settings: Server settings; defaults when omitted.
        store: The event store; by default `open_store` of
            ``settings.database``, opened at startup (ASGI lifespan) and
            closed, after a last commit, at shutdown.
        endpoint: The endpoint core; built from ``tracker`` when omitted
            (pass one to set trusted proxies or other endpoint settings).

    Attributes:
        open_path: Path prefix of open requests.
        click_path: Path prefix of click requests.
        metrics: The Prometheus metrics, ``None`` when disabled.
    """

    def __init__(
        self,
        tracker: Tracker[Any],
        settings: ServerSettings | None = None,
        *,
        store: EventStore | None = None,
        endpoint: TrackingEndpoint | None = None,
    ) -> None:
        self.settings = settings if settings is not None else ServerSettings()
        self.tracker = tracker
        self.endpoint = (
            endpoint
            if endpoint is not None
            else TrackingEndpoint(tracker, settings=self.settings.endpoint_settings())
        )
        self.open_path, self.click_path = tracking_paths(tracker.config, self.settings)
        if self.open_path == self.click_path:
            raise ConfigurationError(
                f"open and click requests need different paths (both are {self.open_path}): "
                "set base_open_tracking_url and base_click_tracking_url, or open_path and "
                "click_path",
                field="open_path",
            )
        self.metrics = Metrics() if self.settings.metrics else None
        self._given_store = store
        self.store: EventStore | None = None
        self.sink: BatchingSink | None = None
        self._ticker: asyncio.Task[None] | None = None
        # Labelled children looked up once (labels() takes a lock and builds a key).
        self._request_counters: dict[tuple[str, str], Any] = {}
        self._timers: dict[str, Any] = {}
        # Commit completions handed from the commit thread to the event loop.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handlers = self._build_handlers()
        self._ack_commit = self.settings.ack == "commit"
        from trackcodec.server.stats import StatsPage

        self._stats = StatsPage(self) if self.settings.stats_token is not None else None
        routes = [
            Route("/healthz", self._healthz, methods=["GET", "HEAD"]),
            Route("/readyz", self._readyz, methods=["GET", "HEAD"]),
        ]
        if self.metrics is not None:
            routes.append(Route("/metrics", self._metrics, methods=["GET", "HEAD"]))
        if self._stats is not None:
            routes.append(Route("/stats", self._stats.endpoint, methods=["GET", "HEAD"]))
        self._router = Starlette(routes=routes)

    def _build_handlers(self) -> list[tuple[str, str, Callable[..., EndpointResponse]]]:
        ep = self.endpoint
        # Longest prefix first: "/t/" must not swallow "/t/o/".
        pairs = [
            (self.open_path, "open", ep.handle_open),
            (self.click_path, "click", ep.handle_click),
        ]
        return sorted(pairs, key=lambda p: len(p[0]), reverse=True)

    # -- lifecycle ---------------------------------------------------------------------

    def open(self) -> None:
        """Open the store and start the group-commit thread (done at ASGI startup)."""
        if self.sink is not None:
            return
        store = self._given_store or open_store(self.settings.database)
        self.store = store
        inner: EventSink = store
        if isinstance(store, SQLiteEventStore) and fcntl is not None:
            inner = _TurnTakingSink(store)
        if self.settings.webhook_outbox:
            from trackcodec.webhooks import WebhookSink

            outbox = WebhookSink.from_config(self.tracker.config, self.settings.webhook_outbox)
            inner = _StoreAndOutbox(
                inner, outbox, every_event=self.tracker.config.webhook_url is not None
            )
        self.sink = BatchingSink(
            inner,
            max_batch=self.settings.batch_max,
            max_delay=self.settings.batch_delay,
            max_queue=self.settings.queue_max,
            on_batch=self._batch_committed,
        )

    def close(self) -> None:
        """Commit what is queued and close the store (done at ASGI shutdown). Idempotent."""
        if self.sink is not None:
            self.sink.close()

    async def _tick(self) -> None:
        metrics = self.metrics
        assert metrics is not None
        while True:
            sink = self.sink
            if sink is not None:
                metrics.lag.set(sink.lag())
                metrics.pending.set(sink.pending)
            await asyncio.sleep(1.0)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._loop = asyncio.get_running_loop()
                try:
                    await run_in_threadpool(self.open)
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    return
                if self.metrics is not None:
                    self._ticker = asyncio.get_running_loop().create_task(self._tick())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._ticker is not None:
                    self._ticker.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await self._ticker
                try:
                    await run_in_threadpool(self.close)
                except Exception as exc:
                    await send({"type": "lifespan.shutdown.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- ASGI --------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one ASGI connection (HTTP request, or lifespan)."""
        kind = scope["type"]
        if kind == "http":
            raw = scope.get("raw_path")
            path = raw.decode("latin-1") if raw else scope["path"]
            for prefix, route, handler in self._handlers:
                if path.startswith(prefix) or path == prefix[:-1]:
                    await self._track(route, handler, path, scope, send)
                    return
        elif kind == "lifespan":
            await self._lifespan(receive, send)
            return
        await self._router(scope, receive, send)

    async def _track(
        self,
        route: str,
        handler: Callable[..., EndpointResponse],
        path: str,
        scope: Scope,
        send: Send,
    ) -> None:
        started = time.perf_counter()
        client = scope.get("client")
        request = EndpointRequest(
            method=scope["method"],
            path=path,
            headers={k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]},
            peer=client[0] if client else None,
            query=scope.get("query_string", b"").decode("latin-1"),
        )
        response = handler(request)
        status = response.status
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        body = response.body
        outcome = "ok"
        if response.event is not None:
            outcome = await self._store_event(response.event)
            if outcome != "ok":
                status, headers, body = 503, _UNAVAILABLE_HEADERS, _UNAVAILABLE_BODY
                if scope["method"] == "HEAD":
                    body = b""
        elif response.error is not None:
            outcome = "invalid_token"
            if self.metrics is not None:
                self.metrics.invalid_tokens.labels(type(response.error).__name__).inc()
        elif status == 405:
            outcome = "method_not_allowed"
        elif status >= 400:
            outcome = "rejected"
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        if self.metrics is not None:
            counter = self._request_counters.get((route, outcome))
            if counter is None:
                counter = self._request_counters[route, outcome] = self.metrics.requests.labels(
                    route, outcome
                )
            counter.inc()
            timer = self._timers.get(route)
            if timer is None:
                timer = self._timers[route] = self.metrics.duration.labels(route)
            timer.observe(time.perf_counter() - started)

    async def _store_event(self, event: Any) -> str:
        sink = self.sink
        if sink is None:
            return "store_error"
        # ack=commit: the request awaits an asyncio future that the event loop resolves
        # once per batch (_batch_committed); ack=queued: the tag is None, only counted.
        waiter: asyncio.Future[None] | None = None
        if self._ack_commit:
            loop = self._loop
            if loop is None:  # no lifespan startup ran
                loop = self._loop = asyncio.get_running_loop()
            waiter = loop.create_future()
        try:
            sink.submit_tagged(event, waiter)
        except SinkOverloaded:
            return "overloaded"
        except RuntimeError:  # closed: the server is stopping
            return "overloaded"
        if waiter is not None:
            try:
                await waiter
            except Exception:
                return "store_error"
        return "ok"

    def _batch_committed(self, results: list[tuple[Any, BaseException | None]]) -> None:
        # In the commit thread, once per batch: one wake-up of the event loop for all of it.
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._resolve_batch, results)

    def _resolve_batch(self, results: list[tuple[Any, BaseException | None]]) -> None:
        failed = 0
        for waiter, error in results:
            if error is not None:
                failed += 1
            if waiter is None or waiter.done():
                continue
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(error)
        if self.metrics is not None:  # counted here, in the loop, once per batch
            if failed:
                self.metrics.store_failures.inc(failed)
            if len(results) > failed:
                self.metrics.committed.inc(len(results) - failed)

    # -- service routes ----------------------------------------------------------------

    async def _healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok\n", headers={"cache-control": "no-store"})

    async def _readyz(self, request: Request) -> Response:
        store = self.store
        if store is None or self.sink is None:
            return PlainTextResponse("starting\n", status_code=503)
        try:
            await run_in_threadpool(store.ping)
        except Exception as exc:
            return PlainTextResponse(
                f"store unavailable: {type(exc).__name__}\n",
                status_code=503,
                headers={"cache-control": "no-store"},
            )
        return PlainTextResponse("ready\n", headers={"cache-control": "no-store"})

    async def _metrics(self, request: Request) -> Response:
        assert self.metrics is not None
        sink = self.sink
        if sink is not None:
            self.metrics.lag.set(sink.lag())
            self.metrics.pending.set(sink.pending)
        text = await run_in_threadpool(self.metrics.render)
        return Response(text, media_type=CONTENT_TYPE, headers={"cache-control": "no-store"})
