"""What every framework adapter shares: reading requests, delivering events to hooks and sinks."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

from trackcodec.endpoint import EndpointRequest, EndpointResponse
from trackcodec.errors import InvalidToken
from trackcodec.event import EventSink, TrackingEvent

logger = logging.getLogger("trackcodec.serving")

R = TypeVar("R")

EventHook = Callable[[TrackingEvent, R], Any]
"""Called with each event and the framework's request (may be ``async`` in async adapters)."""

ErrorHook = Callable[[InvalidToken, R], Any]
"""Called with the reason a token was refused and the framework's request."""


def join_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-case header names; values of repeated headers joined with ``", "``."""
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def request_from_asgi(scope: Mapping[str, Any]) -> EndpointRequest:
    """An `EndpointRequest` from an ASGI HTTP scope (full path: root path included)."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and not path.startswith(root):
        path = root + path
    headers = join_headers(
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in scope.get("headers", ())
    )
    client = scope.get("client")
    query = scope.get("query_string", b"")
    return EndpointRequest(
        method=scope.get("method", "GET"),
        path=path,
        headers=headers,
        peer=client[0] if client else None,
        query=query.decode("latin-1") if isinstance(query, bytes) else str(query),
    )


def request_from_wsgi(environ: Mapping[str, Any]) -> EndpointRequest:
    """An `EndpointRequest` from a WSGI environ (full path: ``SCRIPT_NAME`` included)."""
    pairs = [
        (key[5:].replace("_", "-"), value)
        for key, value in environ.items()
        if key.startswith("HTTP_") and isinstance(value, str)
    ]
    return EndpointRequest(
        method=environ.get("REQUEST_METHOD", "GET"),
        path=environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
        headers=join_headers(pairs),
        peer=environ.get("REMOTE_ADDR") or None,
        query=environ.get("QUERY_STRING", ""),
    )


class Delivery(Generic[R]):
    """Hands a response's event (or error) to the hooks and the sink of an adapter.

    A hook or sink that raises is logged (with the event's JSON, so that it
    can be replayed) and does not change the answer: the person clicking is
    still redirected.
    """

    __slots__ = ("_async_hooks", "_to_thread", "on_error", "on_event", "sink")

    def __init__(
        self,
        sink: EventSink | None,
        on_event: EventHook[R] | None,
        on_error: ErrorHook[R] | None,
        *,
        to_thread: Callable[..., Awaitable[Any]] = asyncio.to_thread,
    ) -> None:
        self._to_thread = to_thread
        self.sink = sink
        self.on_event = on_event
        self.on_error = on_error
        self._async_hooks = any(
            inspect.iscoroutinefunction(h)
            or inspect.iscoroutinefunction(getattr(h, "__call__", None))  # noqa: B004
            for h in (on_event, on_error)
            if h is not None
        )

    def require_sync(self) -> None:
        """Raise ``TypeError`` if a hook is ``async`` (for adapters that cannot await)."""
        if self._async_hooks:
            raise TypeError("async hooks need an async adapter (trackcodec.asgi, .starlette)")

    def deliver(self, response: EndpointResponse, request: R) -> None:
        """Deliver in this thread (WSGI and Django's sync views)."""
        if response.event is not None:
            event = response.event
            if self.sink is not None:
                self._emit(event)
            if self.on_event is not None:
                self._call(self.on_event, event, request)
        elif response.error is not None and self.on_error is not None:
            self._call(self.on_error, response.error, request)

    async def adeliver(self, response: EndpointResponse, request: R) -> None:
        """Deliver from an event loop: sync sinks and hooks run in a worker thread."""
        if response.event is not None:
            event = response.event
            if self.sink is not None:
                await self._to_thread(self._emit, event)
            if self.on_event is not None:
                await self._acall(self.on_event, event, request)
        elif response.error is not None and self.on_error is not None:
            await self._acall(self.on_error, response.error, request)

    def _emit(self, event: TrackingEvent) -> None:
        assert self.sink is not None
        try:
            self.sink.emit([event])
        except Exception:
            logger.exception("event sink failed; event not stored: %s", event.model_dump_json())

    @staticmethod
    def _call(hook: Callable[[Any, R], Any], value: Any, request: R) -> None:
        try:
            hook(value, request)
        except Exception:
            logger.exception("tracking hook %r failed on %r", hook, value)

    async def _acall(self, hook: Callable[[Any, R], Any], value: Any, request: R) -> None:
        try:
            if inspect.iscoroutinefunction(hook) or inspect.iscoroutinefunction(
                getattr(hook, "__call__", None)  # noqa: B004
            ):
                await hook(value, request)
            else:
                await self._to_thread(hook, value, request)
        except Exception:
            logger.exception("tracking hook %r failed on %r", hook, value)
