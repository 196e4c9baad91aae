"""URLconf of the tracking views: ``include("trackcodec.django.urls")``.

Namespace ``trackcodec``; ``o/<token>`` is ``trackcodec:open``, ``c/<token>``
``trackcodec:click``. The tracker's base URLs must point there, e.g.
``https://t.example.com/t/o/`` for ``path("t/", include(...))``.
"""

from __future__ import annotations

from django.urls import URLPattern, path

from trackcodec.django.views import ClickTrackingView, OpenTrackingView

app_name = "trackcodec"

urlpatterns: list[URLPattern] = [
    path("o/<path:token>", OpenTrackingView.as_view(), name="open"),
    path("c/<path:token>", ClickTrackingView.as_view(), name="click"),
]
