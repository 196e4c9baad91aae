"""Starlette, FastAPI and plain ASGI adapters, through Starlette's own TestClient."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.testclient import TestClient

from endpoint_support import TARGET, ListSink, bad_paths, make_tracker, path_of
from trackcodec import InvalidToken, TrackingEvent
from trackcodec.asgi import TrackingASGIApp
from trackcodec.endpoint import GIF_PIXEL, TrackingEndpoint
from trackcodec.starlette import TrackingApp, tracking_routes

NOW = 1_800_000_000.0
TRACKER = make_tracker()
ENDPOINT = TrackingEndpoint(TRACKER)
UA = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"}


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[TrackingEvent, Any]] = []
        self.errors: list[tuple[InvalidToken, Any]] = []

    def on_event(self, event: TrackingEvent, request: Any) -> None:
        self.events.append((event, request))

    def on_error(self, error: InvalidToken, request: Any) -> None:
        self.errors.append((error, request))


def starlette_client(recorder: Recorder, sink: ListSink | None = None) -> TestClient:
    routes = tracking_routes(
        ENDPOINT, sink=sink, on_event=recorder.on_event, on_error=recorder.on_error
    )
    return TestClient(Starlette(routes=routes), base_url="https://t.example.com")


def test_pixel_redirect_and_hooks() -> None:
    recorder, sink = Recorder(), ListSink()
    client = starlette_client(recorder, sink)
    pixel = client.get(path_of(TRACKER.open_url({"customer_id": 7}, now=NOW)), headers=UA)
    assert pixel.status_code == 200
    assert pixel.content == GIF_PIXEL
    assert pixel.headers["content-type"] == "image/gif"
    assert pixel.headers["cache-control"] == "no-store, no-cache, must-revalidate, private"
    click = client.get(
        path_of(TRACKER.click_url(TARGET, {"customer_id": 7}, now=NOW)),
        headers=UA,
        follow_redirects=False,
    )
    assert click.status_code == 302
    assert click.headers["location"] == TARGET
    assert click.headers["referrer-policy"] == "no-referrer"
    kinds = [event.kind for event, _ in recorder.events]
    assert kinds == ["open", "click"]
    assert all(isinstance(request, Request) for _, request in recorder.events)
    assert [e.id for e in sink.events] == [e.id for e, _ in recorder.events]
    assert sink.events[0].metadata == {"customer_id": 7}
    assert sink.events[0].client_ip == "testclient" or sink.events[0].client_ip is None


def test_head_has_no_body() -> None:
    client = starlette_client(Recorder())
    response = client.head(path_of(TRACKER.open_url(now=NOW)))
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "43"


@pytest.mark.parametrize("name", sorted(bad_paths(TRACKER, now=NOW)))
def test_bad_paths_are_404_and_the_hook_sees_why(name: str) -> None:
    recorder = Recorder()
    client = starlette_client(recorder)
    response = client.get(bad_paths(TRACKER, now=NOW)[name], follow_redirects=False)
    assert response.status_code == 404
    assert response.text == "Not Found"
    assert recorder.events == []
    assert len(recorder.errors) == 1
    assert isinstance(recorder.errors[0][0], InvalidToken)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_405_with_allow(method: str) -> None:
    client = starlette_client(Recorder())
    response = client.request(method, path_of(TRACKER.click_url(TARGET, now=NOW)))
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_async_hooks_and_failing_sink(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    async def on_event(event: TrackingEvent, request: Request) -> None:
        seen.append(event.kind)

    app = Starlette(routes=tracking_routes(ENDPOINT, sink=ListSink(fail=True), on_event=on_event))
    with caplog.at_level(logging.ERROR, logger="trackcodec.serving"):
        response = TestClient(app).get(
            path_of(TRACKER.click_url(TARGET, now=NOW)), follow_redirects=False
        )
    assert response.status_code == 302
    assert seen == ["click"]
    assert "event sink failed" in caplog.text
    assert '"kind":"click"' in caplog.text  # the event can be replayed from the log


def test_failing_hook_does_not_fail_the_request(caplog: pytest.LogCaptureFixture) -> None:
    def on_event(event: TrackingEvent, request: Request) -> None:
        raise RuntimeError("boom")

    app = Starlette(routes=tracking_routes(ENDPOINT, on_event=on_event))
    with caplog.at_level(logging.ERROR, logger="trackcodec.serving"):
        response = TestClient(app).get(path_of(TRACKER.open_url(now=NOW)))
    assert response.status_code == 200
    assert "boom" in caplog.text


def test_mounted_tracking_app_in_fastapi() -> None:
    tracker = make_tracker(
        base_open_tracking_url="https://t.example.com/t/o/",
        base_click_tracking_url="https://t.example.com/t/c/",
    )
    recorder = Recorder()
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.mount(
        "/t",
        TrackingApp(
            TrackingEndpoint(tracker), on_event=recorder.on_event, on_error=recorder.on_error
        ),
    )
    client = TestClient(app)
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get(path_of(tracker.open_url(now=NOW))).content == GIF_PIXEL
    click = client.get(path_of(tracker.click_url(TARGET, now=NOW)), follow_redirects=False)
    assert click.headers["location"] == TARGET
    assert client.get("/t/o/garbage").status_code == 404
    assert client.get("/t/elsewhere/x").status_code == 404
    assert client.post("/t/o/garbage").headers["allow"] == "GET, HEAD"
    assert [e.kind for e, _ in recorder.events] == ["open", "click"]
    assert len(recorder.errors) == 2  # a 405 decodes nothing


def test_tracking_routes_in_fastapi() -> None:
    app = FastAPI()
    app.router.routes.extend(tracking_routes(ENDPOINT))
    client = TestClient(app)
    assert client.get(path_of(TRACKER.open_url(now=NOW))).content == GIF_PIXEL


def test_custom_route_paths() -> None:
    routes = tracking_routes(ENDPOINT, open_path="/pixel", click_path="/go/")
    client = TestClient(Starlette(routes=routes))
    token = path_of(TRACKER.open_url(now=NOW)).rsplit("/", 1)[1]
    assert client.get(f"/pixel/{token}").content == GIF_PIXEL


def test_no_routes_without_base_urls() -> None:
    tracker = make_tracker(base_open_tracking_url=None, base_click_tracking_url=None)
    with pytest.raises(ValueError, match="no tracking base URL"):
        tracking_routes(TrackingEndpoint(tracker))


def test_plain_asgi_app() -> None:
    recorder, sink = Recorder(), ListSink()
    app = TrackingASGIApp(
        ENDPOINT, sink=sink, on_event=recorder.on_event, on_error=recorder.on_error
    )
    with TestClient(app) as client:  # runs the lifespan too
        assert client.get(path_of(TRACKER.open_url(now=NOW))).content == GIF_PIXEL
        click = client.get(path_of(TRACKER.click_url(TARGET, now=NOW)), follow_redirects=False)
        assert click.status_code == 302
        assert client.get("/c/garbage").status_code == 404
        assert client.delete("/c/garbage").status_code == 405
    assert [e.kind for e in sink.events] == ["open", "click"]
    assert isinstance(recorder.events[0][1], dict)  # the ASGI scope
    assert len(recorder.errors) == 1


def test_asgi_root_path_is_part_of_the_route() -> None:
    tracker = make_tracker(base_open_tracking_url="https://t.example.com/t/o/")
    app = TrackingASGIApp(TrackingEndpoint(tracker))
    client = TestClient(app, root_path="/t")
    token = path_of(tracker.open_url(now=NOW)).rsplit("/", 1)[1]
    assert client.get(f"/o/{token}").status_code == 200


def test_sync_hooks_and_sinks_run_off_the_event_loop() -> None:
    import asyncio

    def in_loop() -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    seen: list[bool] = []

    class LoopSink(ListSink):
        def emit(self, events: Any, /) -> None:
            seen.append(in_loop())

    def hook(event: TrackingEvent, request: Request) -> None:
        seen.append(in_loop())

    for app in (
        Starlette(routes=tracking_routes(ENDPOINT, sink=LoopSink(), on_event=hook)),
        TrackingASGIApp(ENDPOINT, sink=LoopSink(), on_event=hook),
    ):
        TestClient(app).get(path_of(TRACKER.open_url(now=NOW)))
    assert seen == [False, False, False, False]
