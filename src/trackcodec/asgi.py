"""`TrackingASGIApp`: the tracking endpoint as a plain ASGI application.

For any ASGI server (uvicorn, hypercorn, daphne) or framework that mounts
ASGI apps, without any framework installed. Requests are routed by the
tracker's base URL paths (the full path, ``root_path`` included), so mount
it where those paths point. Sinks and sync hooks run in a worker thread
(``asyncio.to_thread``), before the response is sent.

Example:
    ```python
    endpoint = TrackingEndpoint(tracker)
    app = TrackingASGIApp(endpoint, on_event=lambda event, scope: print(event))
    # uvicorn module:app
    ```
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from trackcodec._serving import Delivery, ErrorHook, EventHook, request_from_asgi
from trackcodec.endpoint import TrackingEndpoint
from trackcodec.event import EventSink

__all__ = ["TrackingASGIApp"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class TrackingASGIApp:
    """An ASGI 3 application answering open and click tracking requests.

    Args:
        endpoint: The endpoint core.
        sink: Where events go (``emit`` runs in a worker thread and returns
            before the response is sent).
        on_event: Called with each event and the ASGI scope; sync (run in a
            worker thread) or ``async``.
        on_error: Called with the `InvalidToken` that refused a request and
            the ASGI scope; sync or ``async``.
    """

    def __init__(
        self,
        endpoint: TrackingEndpoint,
        *,
        sink: EventSink | None = None,
        on_event: EventHook[Scope] | None = None,
        on_error: ErrorHook[Scope] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.delivery: Delivery[Scope] = Delivery(sink, on_event, on_error)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection (``http``; ``lifespan`` acknowledged)."""
        kind = scope["type"]
        if kind == "lifespan":
            await _lifespan(receive, send)
            return
        if kind != "http":
            if kind == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            return
        response = self.endpoint.handle(request_from_asgi(scope))
        await self.delivery.adeliver(response, scope)
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [
                    (k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers
                ],
            }
        )
        await send({"type": "http.response.body", "body": response.body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
