"""ROOT_URLCONF of the Django tests: trackcodec's app, its async views, and the
pytracking views side by side with their trackcodec drop-ins."""

from __future__ import annotations

from typing import Any

import pytracking.django as pytracking_django
from django.urls import include, path, re_path

from trackcodec.compat.pytracking import django as compat_django
from trackcodec.django import AsyncClickTrackingView, AsyncOpenTrackingView

CALLS: list[tuple[str, str, Any]] = []
"""(library, hook, argument) for every notify_* call of the views below."""


def _recording(library: str, base: type[Any]) -> type[Any]:
    class Recording(base):  # type: ignore[misc, valid-type]
        def notify_tracking_event(self, tracking_result: Any) -> None:
            CALLS.append((library, "event", tracking_result))

        def notify_decoding_error(self, exception: Exception, request: Any) -> None:
            CALLS.append((library, "error", exception))

    return Recording


TOKEN = r"(?P<path>[\w=-]+)/?$"

urlpatterns = [
    path("t/", include("trackcodec.django.urls")),
    path("async/o/<path:token>", AsyncOpenTrackingView.as_view()),
    path("async/c/<path:token>", AsyncClickTrackingView.as_view()),
    re_path(
        "^pytracking/open/" + TOKEN,
        _recording("pytracking", pytracking_django.OpenTrackingView).as_view(),
    ),
    re_path(
        "^pytracking/click/" + TOKEN,
        _recording("pytracking", pytracking_django.ClickTrackingView).as_view(),
    ),
    re_path(
        "^compat/open/" + TOKEN, _recording("compat", compat_django.OpenTrackingView).as_view()
    ),
    re_path(
        "^compat/click/" + TOKEN, _recording("compat", compat_django.ClickTrackingView).as_view()
    ),
]
