"""Class-based tracking views, sync and async, with overridable hooks.

Every method reaches the endpoint core, which answers ``405`` (``Allow: GET,
HEAD``) to anything but GET and HEAD. Override, in a subclass:

- `TrackingView.event_received` / `TrackingView.token_refused`: what to do
  with an event or a refusal (the defaults send the `tracking_event` and
  `tracking_error` signals; call ``super()`` to keep them);
- `TrackingView.get_endpoint` / `TrackingView.get_sink`: where the endpoint
  and the sink come from (``settings.TRACKCODEC`` by default);
- `TrackingView.make_response`: how an `EndpointResponse` becomes an
  ``HttpResponse``.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Literal

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.views import View

from trackcodec._serving import join_headers
from trackcodec.django import conf
from trackcodec.django.signals import tracking_error, tracking_event
from trackcodec.endpoint import EndpointRequest, EndpointResponse, TrackingEndpoint
from trackcodec.errors import InvalidToken
from trackcodec.event import EventSink, TrackingEvent

__all__ = [
    "AsyncClickTrackingView",
    "AsyncOpenTrackingView",
    "AsyncTrackingView",
    "ClickTrackingView",
    "OpenTrackingView",
    "TrackingView",
]

logger = logging.getLogger("trackcodec.serving")


class TrackingView(View):
    """Base of the tracking views: decodes, delivers, answers.

    Attributes:
        kind: ``"open"``, ``"click"``, or ``None`` to route by the tracker's
            base URL paths.
        endpoint: An endpoint to use instead of the one of ``settings.TRACKCODEC``.
        sink: A sink to use instead of ``TRACKCODEC["event_sink"]``.
    """

    kind: ClassVar[Literal["open", "click"] | None] = None
    endpoint: TrackingEndpoint | None = None
    sink: EventSink | None = None

    def get_endpoint(self) -> TrackingEndpoint:
        """The endpoint core: ``self.endpoint``, or the one of ``settings.TRACKCODEC``."""
        return self.endpoint if self.endpoint is not None else conf.get_endpoint()

    def get_sink(self) -> EventSink | None:
        """The sink events go to before the answer, if any."""
        return self.sink if self.sink is not None else conf.get_sink()

    def endpoint_request(self, request: HttpRequest) -> EndpointRequest:
        """What the core reads of the Django request."""
        return EndpointRequest(
            method=request.method or "GET",
            path=request.path,
            headers=join_headers(request.headers.items()),
            peer=request.META.get("REMOTE_ADDR") or None,
            query=request.META.get("QUERY_STRING", ""),
        )

    def answer(self, request: HttpRequest) -> EndpointResponse:
        """Ask the endpoint core (no I/O)."""
        endpoint = self.get_endpoint()
        core_request = self.endpoint_request(request)
        if self.kind == "open":
            return endpoint.handle_open(core_request)
        if self.kind == "click":
            return endpoint.handle_click(core_request)
        return endpoint.handle(core_request)

    def event_received(self, request: HttpRequest, event: TrackingEvent) -> None:
        """Called for each valid open or click; sends `tracking_event`."""
        tracking_event.send(sender=type(self), event=event, request=request)

    def token_refused(self, request: HttpRequest, error: InvalidToken) -> None:
        """Called with the reason a token was refused; sends `tracking_error`."""
        tracking_error.send(sender=type(self), error=error, request=request)

    def deliver(self, request: HttpRequest, answer: EndpointResponse) -> None:
        """Hand the event to the sink and `event_received`, or the error to `token_refused`.

        A sink or hook that raises is logged (with the event's JSON) and the
        answer is sent anyway.
        """
        if answer.event is not None:
            event = answer.event
            sink = self.get_sink()
            if sink is not None:
                try:
                    sink.emit([event])
                except Exception:
                    logger.exception(
                        "event sink failed; event not stored: %s", event.model_dump_json()
                    )
            try:
                self.event_received(request, event)
            except Exception:
                logger.exception("tracking hook failed on %s", event.model_dump_json())
        elif answer.error is not None:
            try:
                self.token_refused(request, answer.error)
            except Exception:
                logger.exception("tracking error hook failed on %r", answer.error)

    def make_response(self, answer: EndpointResponse) -> HttpResponse:
        """Turn the core's answer into an ``HttpResponse``."""
        response = HttpResponse(answer.body, status=answer.status)
        for name, value in answer.headers:
            response[name] = value
        return response

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """Answer any method through the core."""
        answer = self.answer(request)
        self.deliver(request, answer)
        return self.make_response(answer)


class OpenTrackingView(TrackingView):
    """Serves the pixel of open-tracking URLs."""

    kind = "open"


class ClickTrackingView(TrackingView):
    """Redirects click-tracking URLs to their target."""

    kind = "click"


class AsyncTrackingView(TrackingView):
    """`TrackingView` for async (ASGI) Django: the sink and the sync hooks run in a thread.

    Override `adeliver` for natively async delivery.
    """

    view_is_async = True

    async def adeliver(self, request: HttpRequest, answer: EndpointResponse) -> None:
        """`TrackingView.deliver`, from the event loop."""
        await sync_to_async(self.deliver)(request, answer)

    async def dispatch(  # type: ignore[override]
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        """Answer any method through the core."""
        answer = self.answer(request)
        await self.adeliver(request, answer)
        return self.make_response(answer)


class AsyncOpenTrackingView(AsyncTrackingView):
    """`OpenTrackingView` for async Django."""

    kind = "open"


class AsyncClickTrackingView(AsyncTrackingView):
    """`ClickTrackingView` for async Django."""

    kind = "click"
