"""Starlette and FastAPI integration (``pip install 'trackcodec[starlette]'``).

`TrackingApp` is an ASGI app to ``Mount`` (or to serve alone); `tracking_routes`
gives the two routes to add to an application's own. Both hand events and
refusals to hooks that receive the Starlette ``Request``, and to an
optional `EventSink`, before answering.

Example:
    ```python
    from starlette.applications import Starlette
    from starlette.routing import Mount

    app = Starlette(routes=[*tracking_routes(endpoint, on_event=record)])
    # or, with every tracking URL under /t/:  Mount("/t", app=TrackingApp(endpoint))
    # FastAPI: app.mount("/t", TrackingApp(endpoint))
    ```
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from trackcodec._deps import require

require("starlette", package="starlette", extra="starlette", feature="trackcodec.starlette")

from starlette.concurrency import run_in_threadpool  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import BaseRoute, Route, Router  # noqa: E402
from starlette.types import Receive, Scope, Send  # noqa: E402

from trackcodec._serving import Delivery, ErrorHook, EventHook, request_from_asgi  # noqa: E402
from trackcodec.endpoint import EndpointRequest, EndpointResponse, TrackingEndpoint  # noqa: E402
from trackcodec.event import EventSink  # noqa: E402

__all__ = ["TrackingApp", "tracking_routes"]


def _response(answer: EndpointResponse) -> Response:
    return Response(content=answer.body, status_code=answer.status, headers=dict(answer.headers))


class _Handler:
    """An ASGI app for one kind of route: any method reaches the core, which answers 405."""

    def __init__(
        self, answer: Callable[[EndpointRequest], EndpointResponse], delivery: Delivery[Request]
    ) -> None:
        self.answer = answer
        self.delivery = delivery

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        answer = self.answer(request_from_asgi(scope))
        await self.delivery.adeliver(answer, request)
        await _response(answer)(scope, receive, send)


def tracking_routes(
    endpoint: TrackingEndpoint,
    *,
    sink: EventSink | None = None,
    on_event: EventHook[Request] | None = None,
    on_error: ErrorHook[Request] | None = None,
    open_path: str | None = None,
    click_path: str | None = None,
) -> list[BaseRoute]:
    """The open and click routes, to add to a Starlette or FastAPI application.

    Args:
        endpoint: The endpoint core.
        sink: Where events go (``emit`` runs in a worker thread, before the answer).
        on_event: Called with each event and the ``Request``; sync (worker
            thread) or ``async``.
        on_error: Called with the `InvalidToken` that refused a request.
        open_path: Route prefix of open URLs; the path of the tracker's
            ``base_open_tracking_url`` by default.
        click_path: Route prefix of click URLs; likewise.

    Raises:
        ValueError: No path is given or configured for a kind.
    """
    delivery: Delivery[Request] = Delivery(sink, on_event, on_error, to_thread=run_in_threadpool)
    routes: list[BaseRoute] = []
    config = endpoint.tracker.config
    for name, given, base, handler in (
        ("open", open_path, config.base_open_tracking_url, endpoint.handle_open),
        ("click", click_path, config.base_click_tracking_url, endpoint.handle_click),
    ):
        prefix = given if given is not None else _base_path(base)
        if prefix is None:
            continue
        if not prefix.endswith("/"):
            prefix += "/"
        routes.append(
            Route(prefix + "{token:path}", _Handler(handler, delivery), name=f"trackcodec-{name}")
        )
    if not routes:
        raise ValueError("no tracking base URL is configured and no route path is given")
    return routes


def _base_path(base: str | None) -> str | None:
    if base is None:
        return None
    return urlsplit(base).path or "/"


class TrackingApp:
    """An ASGI app serving both tracking URLs, routed by the tracker's base paths.

    ``Mount`` it where the base URLs point (the full path, mount prefix
    included, is matched against them), or run it alone with any ASGI
    server. Same arguments as `tracking_routes`, without the paths.
    """

    def __init__(
        self,
        endpoint: TrackingEndpoint,
        *,
        sink: EventSink | None = None,
        on_event: EventHook[Request] | None = None,
        on_error: ErrorHook[Request] | None = None,
    ) -> None:
        self.endpoint = endpoint
        handler = _Handler(
            endpoint.handle, Delivery(sink, on_event, on_error, to_thread=run_in_threadpool)
        )
        self.router = Router(routes=[Route("/{path:path}", handler, name="trackcodec")])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection."""
        await self.router(scope, receive, send)
