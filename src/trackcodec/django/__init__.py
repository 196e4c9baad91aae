"""Django integration: a reusable app (``pip install 'trackcodec[django]'``).

Add ``"trackcodec.django"`` to ``INSTALLED_APPS``, the settings to
``TRACKCODEC = {...}`` (`TrackingConfig` and `EndpointSettings` fields, plus
``event_sink`` and ``metadata_model`` as dotted paths), and
``path("t/", include("trackcodec.django.urls"))`` to the URLconf (namespace
``trackcodec``, URL names ``open`` and ``click``). Events arrive through the
`tracking_event` signal, the optional sink, or the hooks of a subclass of
`OpenTrackingView` / `ClickTrackingView` (``Async*`` twins for ASGI).
"""

from __future__ import annotations

from trackcodec._deps import require

require("django", package="Django", extra="django", feature="trackcodec.django")

from trackcodec.django.conf import get_endpoint, get_sink  # noqa: E402
from trackcodec.django.signals import tracking_error, tracking_event  # noqa: E402
from trackcodec.django.views import (  # noqa: E402
    AsyncClickTrackingView,
    AsyncOpenTrackingView,
    AsyncTrackingView,
    ClickTrackingView,
    OpenTrackingView,
    TrackingView,
)

__all__ = [
    "AsyncClickTrackingView",
    "AsyncOpenTrackingView",
    "AsyncTrackingView",
    "ClickTrackingView",
    "OpenTrackingView",
    "TrackingView",
    "get_endpoint",
    "get_sink",
    "tracking_error",
    "tracking_event",
]
