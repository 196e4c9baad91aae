"""`trackcodec.django`: the reusable app, through Django's own test Client.

Settings are configured by this module (`django_support.configure`), the
URLconf is tests/django_urls.py: ``path("t/", include("trackcodec.django.urls"))``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.test import AsyncClient, Client, RequestFactory, override_settings
from django.urls import reverse

from django_support import TRACKCODEC, configure
from endpoint_support import TARGET, ListSink, bad_paths, legacy_plain_click, path_of
from trackcodec import InvalidToken, MalformedToken, Tracker, TrackingEvent
from trackcodec.django import (
    ClickTrackingView,
    OpenTrackingView,
    get_endpoint,
    get_sink,
    tracking_error,
    tracking_event,
)
from trackcodec.endpoint import GIF_PIXEL, PNG_PIXEL, TrackingEndpoint

configure()  # Django settings for this module's test Client

NOW = time.time() - 3600  # the views read the clock
UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"


def tracker() -> Tracker[Any]:
    return get_endpoint().tracker


@pytest.fixture
def signals() -> Iterator[dict[str, list[Any]]]:
    seen: dict[str, list[Any]] = {"events": [], "errors": []}

    def on_event(sender: Any, event: TrackingEvent, request: HttpRequest, **kwargs: Any) -> None:
        seen["events"].append((sender, event, request))

    def on_error(sender: Any, error: InvalidToken, request: HttpRequest, **kwargs: Any) -> None:
        seen["errors"].append((sender, error, request))

    tracking_event.connect(on_event)
    tracking_error.connect(on_error)
    yield seen
    tracking_event.disconnect(on_event)
    tracking_error.disconnect(on_error)


def test_urls_are_namespaced() -> None:
    assert reverse("trackcodec:open", kwargs={"token": "abc"}) == "/t/o/abc"
    assert reverse("trackcodec:click", kwargs={"token": "abc"}) == "/t/c/abc"


def test_pixel_and_signal(signals: dict[str, list[Any]]) -> None:
    url = tracker().open_url({"customer_id": 7}, now=NOW)
    response = Client().get(path_of(url), HTTP_USER_AGENT=UA)
    assert response.status_code == 200
    assert response.content == GIF_PIXEL
    assert response["Content-Type"] == "image/gif"
    assert response["Cache-Control"] == "no-store, no-cache, must-revalidate, private"
    assert response["Expires"] == "0"
    [(sender, event, request)] = signals["events"]
    assert sender is OpenTrackingView
    assert isinstance(request, HttpRequest)
    assert event.metadata == {"customer_id": 7}
    assert event.client_ip == "127.0.0.1"
    assert event.user_agent == UA
    assert event.likely == "human"


def test_head_has_headers_only(signals: dict[str, list[Any]]) -> None:
    response = Client().head(path_of(tracker().open_url(now=NOW)), HTTP_USER_AGENT=UA)
    assert response.status_code == 200
    assert response.content == b""
    assert response["Content-Length"] == "43"
    assert signals["events"][0][1].machine_reason == "head-request"


def test_click_redirects(signals: dict[str, list[Any]]) -> None:
    url = tracker().click_url(TARGET, {"customer_id": 7}, now=NOW)
    response = Client().get(path_of(url), HTTP_USER_AGENT=UA)
    assert response.status_code == 302
    assert response["Location"] == TARGET
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Cache-Control"] == "no-store"
    [(sender, event, _)] = signals["events"]
    assert sender is ClickTrackingView
    assert event.tracked_url == TARGET


def test_legacy_click(signals: dict[str, list[Any]]) -> None:
    path = path_of(legacy_plain_click(TARGET)).replace("/c/", "/t/c/")
    response = Client().get(path)
    assert response["Location"] == TARGET
    assert signals["events"][0][1].legacy


@pytest.mark.parametrize("name", sorted(bad_paths(Tracker(**TRACKCODEC), now=NOW)))
def test_bad_paths_are_404_and_the_signal_says_why(
    name: str, signals: dict[str, list[Any]]
) -> None:
    path = "/t" + bad_paths(tracker(), now=NOW)[name]
    response = Client().get(path)
    assert response.status_code == 404
    assert signals["events"] == []
    if name == "empty-open":  # no token at all: Django's URL resolver answers
        assert signals["errors"] == []
    else:
        [(_, error, _)] = signals["errors"]
        assert isinstance(error, InvalidToken)
        assert response.content == b"Not Found"


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch", "options", "trace"])
def test_other_methods_are_405(method: str) -> None:
    response = getattr(Client(), method)(path_of(tracker().click_url(TARGET, now=NOW)))
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_settings_choose_the_pixel_and_the_sink() -> None:
    settings = {**TRACKCODEC, "pixel": "png", "event_sink": "endpoint_support.ListSink"}
    with override_settings(TRACKCODEC=settings):
        response = Client().get(path_of(tracker().open_url(now=NOW)))
        assert response.content == PNG_PIXEL
        sink = get_sink()
        assert isinstance(sink, ListSink)
        assert [e.kind for e in sink.events] == ["open"]
    assert sink.closed  # the setting changed back: the old sink was closed
    assert get_sink() is None


def test_invalid_settings_are_improperly_configured() -> None:
    with (
        override_settings(TRACKCODEC={**TRACKCODEC, "pixle": "png"}),
        pytest.raises(ImproperlyConfigured, match="pixle"),
    ):
        get_endpoint()
    with override_settings(TRACKCODEC=None), pytest.raises(ImproperlyConfigured):
        get_endpoint()


def test_fallback_url_for_bad_clicks(signals: dict[str, list[Any]]) -> None:
    with override_settings(TRACKCODEC={**TRACKCODEC, "fallback_url": "https://www.example.com/"}):
        response = Client().get("/t/c/garbage")
    assert response.status_code == 302
    assert response["Location"] == "https://www.example.com/"
    assert isinstance(signals["errors"][0][1], MalformedToken)


def test_subclass_hooks_and_own_endpoint() -> None:
    events: list[TrackingEvent] = []
    errors: list[InvalidToken] = []

    class MyClickView(ClickTrackingView):
        def event_received(self, request: HttpRequest, event: TrackingEvent) -> None:
            events.append(event)

        def token_refused(self, request: HttpRequest, error: InvalidToken) -> None:
            errors.append(error)

    endpoint = TrackingEndpoint(Tracker(**{**TRACKCODEC, "fallback_url": None}))
    view = MyClickView.as_view(endpoint=endpoint, sink=ListSink())
    factory = RequestFactory()
    click = path_of(endpoint.tracker.click_url(TARGET, now=NOW))
    assert view(factory.get(click)).status_code == 302
    assert view(factory.get("/t/c/nope")).status_code == 404
    assert [e.tracked_url for e in events] == [TARGET]
    assert isinstance(errors[0], InvalidToken)


def test_failing_sink_still_redirects(caplog: pytest.LogCaptureFixture) -> None:
    view = ClickTrackingView.as_view(sink=ListSink(fail=True))
    request = RequestFactory().get(path_of(tracker().click_url(TARGET, now=NOW)))
    with caplog.at_level(logging.ERROR, logger="trackcodec.serving"):
        assert view(request).status_code == 302
    assert "event sink failed" in caplog.text


def test_async_views(signals: dict[str, list[Any]]) -> None:
    async def run() -> list[Any]:
        client = AsyncClient()
        open_token = path_of(tracker().open_url(now=NOW)).rsplit("/", 1)[1]
        click_token = path_of(tracker().click_url(TARGET, now=NOW)).rsplit("/", 1)[1]
        return [
            await client.get(f"/async/o/{open_token}"),
            await client.get(f"/async/c/{click_token}"),
            await client.get("/async/c/garbage"),
            await client.post(f"/async/o/{open_token}"),
        ]

    pixel, click, bad, post = asyncio.run(run())
    assert pixel.content == GIF_PIXEL
    assert click.status_code == 302
    assert click["Location"] == TARGET
    assert bad.status_code == 404
    assert post.status_code == 405
    assert [e.kind for _, e, _ in signals["events"]] == ["open", "click"]
    assert len(signals["errors"]) == 1


def test_system_check() -> None:
    from trackcodec.django.apps import check_settings

    assert check_settings() == []
    with override_settings(TRACKCODEC={**TRACKCODEC, "pixel": "tiff"}):
        [error] = check_settings()
    assert error.id == "trackcodec.E001"
    assert "pixel" in error.msg
