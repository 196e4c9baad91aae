"""Tracking apps run by real servers in a subprocess (tests/test_real_servers.py).

Run as ``python serving_app.py SERVER FD EVENTS_FILE``: serves, on the
listening socket ``FD`` inherited from the test, the tracking URLs of
`endpoint_support.make_tracker` plus ``/landing`` (the click target, so that
following the redirect stays on loopback), and appends each event's JSON to
``EVENTS_FILE``. SERVER is ``uvicorn`` (Starlette `TrackingApp`),
``waitress`` (plain `TrackingWSGIApp`) or ``django`` (the ``trackcodec.django``
app, served by waitress).
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from endpoint_support import make_tracker
from trackcodec import TrackingEvent
from trackcodec.endpoint import TrackingEndpoint


class FileSink:
    """Appends events as JSON lines; durable once the file is flushed and synced."""

    durable = True

    def __init__(self, path: str) -> None:
        self.path = path

    def emit(self, events: Sequence[TrackingEvent], /) -> None:
        with open(self.path, "a", encoding="utf-8") as out:
            for event in events:
                out.write(event.model_dump_json() + "\n")

    def close(self) -> None:
        pass


def asgi_app(events: str) -> Any:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Mount, Route

    from trackcodec.starlette import TrackingApp

    async def landing(request: Any) -> PlainTextResponse:
        return PlainTextResponse("landed")

    tracking = TrackingApp(TrackingEndpoint(make_tracker()), sink=FileSink(events))
    return Starlette(routes=[Route("/landing", landing), Mount("", app=tracking)])


def wsgi_app(events: str) -> Callable[..., Iterable[bytes]]:
    from trackcodec.wsgi import TrackingWSGIApp

    tracking = TrackingWSGIApp(TrackingEndpoint(make_tracker()), sink=FileSink(events))

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/landing":
            start_response("200 OK", [("content-type", "text/plain")])
            return [b"landed"]
        return tracking(environ, start_response)

    return app


def file_sink_from_env() -> FileSink:
    """The Django app's ``event_sink``."""
    return FileSink(os.environ["TRACKCODEC_TEST_EVENTS"])


def __getattr__(name: str) -> Any:
    """``urlpatterns``, when Django imports this module as its ROOT_URLCONF."""
    if name != "urlpatterns":
        raise AttributeError(name)
    from django.http import HttpRequest, HttpResponse
    from django.urls import include, path

    def landing(request: HttpRequest) -> HttpResponse:
        return HttpResponse(b"landed", content_type="text/plain")

    return [path("landing", landing), path("", include("trackcodec.django.urls"))]


def django_app(events: str) -> Callable[..., Iterable[bytes]]:
    import django
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    os.environ["TRACKCODEC_TEST_EVENTS"] = events
    settings.configure(
        DEBUG=False,
        SECRET_KEY="trackcodec-tests",
        ALLOWED_HOSTS=["127.0.0.1"],
        INSTALLED_APPS=["trackcodec.django"],
        ROOT_URLCONF="serving_app",
        MIDDLEWARE=[],
        TRACKCODEC={
            **make_tracker().config.model_dump(),
            "event_sink": "serving_app.file_sink_from_env",
        },
    )
    django.setup()
    return get_wsgi_application()


def main(server: str, fd: int, events: str) -> None:
    sock = socket.socket(fileno=fd)
    if server == "uvicorn":
        import uvicorn

        config = uvicorn.Config(asgi_app(events), log_level="warning", lifespan="off")
        uvicorn.Server(config).run(sockets=[sock])
    elif server == "waitress":
        import waitress

        waitress.serve(wsgi_app(events), sockets=[sock], threads=2, _quiet=True)
    elif server == "django":
        import waitress

        waitress.serve(django_app(events), sockets=[sock], threads=2, _quiet=True)
    else:
        raise SystemExit(f"unknown server {server!r}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
