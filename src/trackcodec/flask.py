"""Flask integration: the `Tracking` extension (``pip install 'trackcodec[flask]'``).

``Tracking(app)`` or ``tracking.init_app(app)`` registers a blueprint named
``trackcodec`` with the open and click routes (at the paths of the tracker's
base URLs by default), built from ``app.config["TRACKCODEC"]``
(`TrackingConfig` and `EndpointSettings` fields) unless an endpoint is given.
Events go to the optional sink and to the functions registered with
`Tracking.event_handler`; refusals to those of `Tracking.error_handler`.

Flask runs ``async`` views in a thread of their own, so there is nothing to
gain from async tracking views there; use the Starlette adapter (or Quart
with `trackcodec.asgi`) for an event-loop server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from trackcodec._deps import require

require("flask", package="flask", extra="flask", feature="trackcodec.flask")

from flask import Blueprint, Flask, Request, Response, current_app, request  # noqa: E402

from trackcodec._serving import Delivery, request_from_wsgi  # noqa: E402
from trackcodec.endpoint import EndpointResponse, TrackingEndpoint  # noqa: E402
from trackcodec.errors import InvalidToken  # noqa: E402
from trackcodec.event import EventSink, TrackingEvent  # noqa: E402

__all__ = ["Tracking"]

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]

EventHandler = Callable[[TrackingEvent, Request], Any]
ErrorHandler = Callable[[InvalidToken, Request], Any]


@dataclass
class _State:
    endpoint: TrackingEndpoint
    delivery: Delivery[Request]


class Tracking:
    """The Flask extension serving tracking URLs.

    Args:
        app: The application, or ``None`` to call `init_app` later.
        endpoint: The endpoint core; built from ``app.config["TRACKCODEC"]``
            when omitted.
        sink: Where events go, before the answer.
        open_path: Route prefix of open URLs (the path of
            ``base_open_tracking_url`` by default).
        click_path: Route prefix of click URLs (likewise).

    Example:
        ```python
        app = Flask(__name__)
        app.config["TRACKCODEC"] = {"base_open_tracking_url": ..., "keys": ...}
        tracking = Tracking(app)

        @tracking.event_handler
        def record(event, request):
            ...
        ```
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        endpoint: TrackingEndpoint | None = None,
        sink: EventSink | None = None,
        open_path: str | None = None,
        click_path: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.sink = sink
        self.open_path = open_path
        self.click_path = click_path
        self._event_handlers: list[EventHandler] = []
        self._error_handlers: list[ErrorHandler] = []
        if app is not None:
            self.init_app(app)

    def event_handler(self, function: EventHandler) -> EventHandler:
        """Register ``function(event, request)``, called for each valid open or click.

        Raises:
            TypeError: ``function`` is ``async``.
        """
        Delivery(None, function, None).require_sync()
        self._event_handlers.append(function)
        return function

    def error_handler(self, function: ErrorHandler) -> ErrorHandler:
        """Register ``function(error, request)``, called with the reason a token was refused.

        Raises:
            TypeError: ``function`` is ``async``.
        """
        Delivery(None, None, function).require_sync()
        self._error_handlers.append(function)
        return function

    def init_app(self, app: Flask) -> None:
        """Build the endpoint for ``app`` and register the ``trackcodec`` blueprint.

        Raises:
            KeyError: No endpoint was given and ``app.config`` has no ``TRACKCODEC``.
            ConfigurationError: Invalid settings.
        """
        endpoint = self.endpoint or TrackingEndpoint.from_settings(app.config["TRACKCODEC"])
        delivery: Delivery[Request] = Delivery(self.sink, self._on_event, self._on_error)
        app.extensions["trackcodec"] = _State(endpoint, delivery)
        app.register_blueprint(self._blueprint(endpoint))

    def _on_event(self, event: TrackingEvent, req: Request) -> None:
        for handler in self._event_handlers:
            handler(event, req)

    def _on_error(self, error: InvalidToken, req: Request) -> None:
        for handler in self._error_handlers:
            handler(error, req)

    def _blueprint(self, endpoint: TrackingEndpoint) -> Blueprint:
        blueprint = Blueprint("trackcodec", __name__)
        config = endpoint.tracker.config
        for kind, given, base in (
            ("open", self.open_path, config.base_open_tracking_url),
            ("click", self.click_path, config.base_click_tracking_url),
        ):
            prefix = given if given is not None else (urlsplit(base).path or "/" if base else None)
            if prefix is None:
                continue
            if not prefix.endswith("/"):
                prefix += "/"
            blueprint.add_url_rule(
                prefix + "<path:token>",
                endpoint=kind,
                view_func=_open_view if kind == "open" else _click_view,
                methods=_METHODS,
                provide_automatic_options=False,
            )
        return blueprint


def _serve(kind: str) -> Response:
    state: _State = current_app.extensions["trackcodec"]
    core_request = request_from_wsgi(request.environ)
    if kind == "open":
        answer = state.endpoint.handle_open(core_request)
    else:
        answer = state.endpoint.handle_click(core_request)
    state.delivery.deliver(answer, request._get_current_object())  # type: ignore[attr-defined]
    return _response(answer)


def _response(answer: EndpointResponse) -> Response:
    response = Response(answer.body, status=answer.status)
    for name, value in answer.headers:
        response.headers[name] = value
    return response


def _open_view(token: str) -> Response:
    return _serve("open")


def _click_view(token: str) -> Response:
    return _serve("click")
