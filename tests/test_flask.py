"""`trackcodec.flask`: the extension, through Flask's own test client."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, Request

from endpoint_support import TARGET, ListSink, bad_paths, make_tracker, path_of
from trackcodec import ConfigurationError, InvalidToken, TrackingEvent
from trackcodec.endpoint import GIF_PIXEL, PNG_PIXEL, TrackingEndpoint
from trackcodec.flask import Tracking

NOW = 1_800_000_000.0
LATER_UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"
TRACKER = make_tracker()


def make_app(**options: Any) -> tuple[Flask, Tracking, dict[str, list[Any]]]:
    app = Flask(__name__)
    app.config["TRACKCODEC"] = {**TRACKER.config.model_dump(), "early_seconds": 0}
    seen: dict[str, list[Any]] = {"events": [], "errors": []}
    tracking = Tracking(**options)

    @tracking.event_handler
    def on_event(event: TrackingEvent, request: Request) -> None:
        seen["events"].append((event, request))

    @tracking.error_handler
    def on_error(error: InvalidToken, request: Request) -> None:
        seen["errors"].append((error, request))

    tracking.init_app(app)
    return app, tracking, seen


def test_pixel_redirect_and_handlers() -> None:
    sink = ListSink()
    app, _, seen = make_app(sink=sink)
    client = app.test_client()
    pixel = client.get(path_of(TRACKER.open_url({"customer_id": 7}, now=NOW)))
    assert pixel.status_code == 200
    assert pixel.data == GIF_PIXEL
    assert pixel.headers["Content-Type"] == "image/gif"
    assert pixel.headers["Pragma"] == "no-cache"
    click = client.get(
        path_of(TRACKER.click_url(TARGET, now=NOW)), headers={"User-Agent": LATER_UA}
    )
    assert click.status_code == 302
    assert click.headers["Location"] == TARGET
    assert click.headers["Referrer-Policy"] == "no-referrer"
    assert [e.kind for e, _ in seen["events"]] == ["open", "click"]
    assert all(isinstance(r, Request) for _, r in seen["events"])
    assert [e.id for e in sink.events] == [e.id for e, _ in seen["events"]]
    assert seen["events"][0][0].client_ip == "127.0.0.1"
    assert seen["events"][1][0].user_agent == LATER_UA


def test_head() -> None:
    app, _, _ = make_app()
    response = app.test_client().head(path_of(TRACKER.open_url(now=NOW)))
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Length"] == "43"


@pytest.mark.parametrize("name", sorted(bad_paths(TRACKER, now=NOW)))
def test_bad_paths_are_404_and_handlers_see_why(name: str) -> None:
    app, _, seen = make_app()
    response = app.test_client().get(bad_paths(TRACKER, now=NOW)[name])
    assert response.status_code == 404
    assert seen["events"] == []
    if name == "empty-open":  # no token: Flask's router answers
        assert seen["errors"] == []
    else:
        assert isinstance(seen["errors"][0][0], InvalidToken)
        assert response.data == b"Not Found"


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch", "options", "trace"])
def test_other_methods_are_405(method: str) -> None:
    app, _, _ = make_app()
    response = getattr(app.test_client(), method)(path_of(TRACKER.click_url(TARGET, now=NOW)))
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"


def test_given_endpoint_and_paths() -> None:
    from trackcodec.endpoint import EndpointSettings

    endpoint = TrackingEndpoint(TRACKER, settings=EndpointSettings(pixel="png"))
    app = Flask(__name__)
    Tracking(app, endpoint=endpoint, open_path="/pixel", click_path="/go")
    token = path_of(TRACKER.open_url(now=NOW)).rsplit("/", 1)[1]
    assert app.test_client().get(f"/pixel/{token}").data == PNG_PIXEL
    assert app.url_map.bind("t.example.com").build("trackcodec.open", {"token": "x"}) == "/pixel/x"


def test_missing_or_invalid_config() -> None:
    with pytest.raises(KeyError):
        Tracking(Flask(__name__))
    app = Flask(__name__)
    app.config["TRACKCODEC"] = {"pixel": "tiff"}
    with pytest.raises(ConfigurationError):
        Tracking(app)


def test_async_handlers_are_refused_at_registration() -> None:
    tracking = Tracking()

    async def handler(event: TrackingEvent, request: Request) -> None: ...

    with pytest.raises(TypeError, match="async"):
        tracking.event_handler(handler)
