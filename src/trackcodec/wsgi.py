"""`TrackingWSGIApp`: the tracking endpoint as a plain WSGI application.

For any WSGI server (gunicorn, waitress, uWSGI, mod_wsgi) or framework that
mounts WSGI apps, without any framework installed. Requests are routed by
the tracker's base URL paths (``SCRIPT_NAME`` plus ``PATH_INFO``), so mount
it where those paths point.

Example:
    ```python
    endpoint = TrackingEndpoint(tracker)
    application = TrackingWSGIApp(endpoint, on_event=lambda event, environ: print(event))
    # waitress-serve module:application
    ```
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from trackcodec._serving import Delivery, ErrorHook, EventHook, request_from_wsgi
from trackcodec.endpoint import TrackingEndpoint
from trackcodec.event import EventSink

__all__ = ["TrackingWSGIApp"]

Environ = dict[str, Any]
StartResponse = Callable[..., Any]

_REASONS = {
    200: "200 OK",
    301: "301 Moved Permanently",
    302: "302 Found",
    303: "303 See Other",
    307: "307 Temporary Redirect",
    308: "308 Permanent Redirect",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
}


class TrackingWSGIApp:
    """A WSGI application answering open and click tracking requests.

    Args:
        endpoint: The endpoint core.
        sink: Where events go (``emit`` returns before the response is sent).
        on_event: Called with each event and the WSGI environ.
        on_error: Called with the `InvalidToken` that refused a request and
            the WSGI environ.

    Raises:
        TypeError: A hook is ``async``.
    """

    def __init__(
        self,
        endpoint: TrackingEndpoint,
        *,
        sink: EventSink | None = None,
        on_event: EventHook[Environ] | None = None,
        on_error: ErrorHook[Environ] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.delivery: Delivery[Environ] = Delivery(sink, on_event, on_error)
        self.delivery.require_sync()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Serve one WSGI request."""
        response = self.endpoint.handle(request_from_wsgi(environ))
        self.delivery.deliver(response, environ)
        start_response(_REASONS.get(response.status, str(response.status)), list(response.headers))
        return [response.body]
