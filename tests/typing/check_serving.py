"""Type-checked (not run) usage of the serving API: the endpoint core and the adapters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from django.http import HttpRequest
from starlette.requests import Request
from typing_extensions import assert_type

from trackcodec import InvalidToken, Tracker, TrackingEvent
from trackcodec.asgi import TrackingASGIApp
from trackcodec.django import ClickTrackingView
from trackcodec.endpoint import (
    EndpointRequest,
    EndpointResponse,
    EndpointSettings,
    TrackingEndpoint,
)
from trackcodec.flask import Tracking
from trackcodec.starlette import TrackingApp, tracking_routes
from trackcodec.wsgi import TrackingWSGIApp


class PrintSink:
    durable = False

    def emit(self, events: Sequence[TrackingEvent], /) -> None:
        print(events)

    def close(self) -> None:
        pass


def core(tracker: Tracker[Any]) -> None:
    endpoint = TrackingEndpoint(tracker, settings=EndpointSettings(pixel="png"))
    request = EndpointRequest("GET", "/o/token", {"user-agent": "x"}, "203.0.113.9", "")
    response = endpoint.handle(request, now=1.0)
    assert_type(response, EndpointResponse)
    assert_type(response.status, int)
    assert_type(response.headers, tuple[tuple[str, str], ...])
    assert_type(response.body, bytes)
    assert_type(response.kind, Literal["open", "click"] | None)
    assert_type(response.event, TrackingEvent | None)
    assert_type(response.error, InvalidToken | None)
    assert_type(endpoint.handle_open(request), EndpointResponse)
    assert_type(endpoint.handle_click(request), EndpointResponse)


def adapters(endpoint: TrackingEndpoint) -> None:
    def on_starlette_event(event: TrackingEvent, request: Request) -> None: ...

    async def on_starlette_error(error: InvalidToken, request: Request) -> None: ...

    tracking_routes(endpoint, sink=PrintSink(), on_event=on_starlette_event)
    TrackingApp(endpoint, on_error=on_starlette_error)
    TrackingASGIApp(endpoint, on_event=lambda event, scope: None)
    TrackingWSGIApp(endpoint, sink=PrintSink(), on_error=lambda error, environ: None)
    Tracking(endpoint=endpoint, sink=PrintSink())


class MyClickView(ClickTrackingView):
    def event_received(self, request: HttpRequest, event: TrackingEvent) -> None:
        super().event_received(request, event)

    def token_refused(self, request: HttpRequest, error: InvalidToken) -> None:
        super().token_refused(request, error)
