"""Drop-in replacement for ``pytracking.django``.

Change ``from pytracking.django import ...`` to
``from trackcodec.compat.pytracking.django import ...``: the same views,
hooks (``notify_tracking_event``, ``notify_decoding_error``,
``get_configuration``), functions and ``PYTRACKING_CONFIGURATION`` setting,
decoding through `trackcodec.compat.pytracking`.

The client address comes from django-ipware's ``get_client_ip`` as in
pytracking (its ``IPWARE_*`` settings apply); without django-ipware, from
python-ipware on ``request.META``, which is what django-ipware 5 and later do.

Differences, all fixes:

- A click token whose target is not an http(s) URL (``javascript:``,
  ``data:``: a plain pytracking token can carry anything) gets
  ``notify_decoding_error`` with a `trackcodec.RedirectNotAllowed` and a 404,
  where pytracking called ``notify_tracking_event`` and then failed on the
  redirect (a 400, from Django's ``DisallowedRedirect``).
- Redirects carry ``Referrer-Policy: no-referrer``, so the tracking token
  does not leak to the target site.
"""

from __future__ import annotations

from typing import Any

from trackcodec._deps import require

require("django", package="Django", extra="django", feature="trackcodec.compat.pytracking.django")

from django.conf import settings  # noqa: E402
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect  # noqa: E402
from django.views.generic import View  # noqa: E402

from trackcodec.compat.pytracking import (  # noqa: E402
    PNG_MIME_TYPE,
    TRACKING_PIXEL,
    Configuration,
    TrackingResult,
    get_configuration,
)
from trackcodec.redirect import RedirectPolicy  # noqa: E402

__all__ = [
    "ClickTrackingView",
    "OpenTrackingView",
    "TrackingView",
    "get_configuration_from_settings",
    "get_request_data",
    "get_tracking_result",
]

_REDIRECTS = RedirectPolicy(("http", "https"), None)


class TrackingView(View):
    """Base tracking view; subclasses override the ``notify_*`` methods."""

    def notify_tracking_event(self, tracking_result: TrackingResult) -> None:
        """Called once the link is decoded, before the redirect or the pixel."""

    def notify_decoding_error(self, exception: Exception, request: HttpRequest) -> None:
        """Called when the link does not decode, before the 404."""

    def get_configuration(self) -> Configuration:
        """The `Configuration` of ``settings.PYTRACKING_CONFIGURATION``; override at will."""
        return get_configuration_from_settings()


class ClickTrackingView(TrackingView):
    """Decodes a click link, calls ``notify_tracking_event``, redirects (302) to the target.

    ``request_data`` holds ``user_agent`` and ``user_ip``. A link that does not
    decode, or has no target, gets a 404 (after ``notify_decoding_error`` for
    the former).
    """

    def get(self, request: HttpRequest, path: str) -> HttpResponse:
        """Answer a click."""
        configuration = self.get_configuration()
        try:
            tracking_result = get_tracking_result(request, path, False, configuration)
        except Exception as e:
            self.notify_decoding_error(e, request)
            raise Http404 from e
        if not tracking_result.tracked_url:
            raise Http404
        try:
            _REDIRECTS.check(tracking_result.tracked_url)
        except Exception as e:
            self.notify_decoding_error(e, request)
            raise Http404 from e
        self.notify_tracking_event(tracking_result)
        response = HttpResponseRedirect(tracking_result.tracked_url)
        response["Referrer-Policy"] = "no-referrer"
        return response


class OpenTrackingView(TrackingView):
    """Decodes an open link, calls ``notify_tracking_event``, answers a 1x1 PNG.

    ``request_data`` holds ``user_agent`` and ``user_ip``. A link that does not
    decode gets ``notify_decoding_error`` and a 404.
    """

    def get(self, request: HttpRequest, path: str) -> HttpResponse:
        """Answer an open."""
        configuration = self.get_configuration()
        try:
            tracking_result = get_tracking_result(request, path, True, configuration)
        except Exception as e:
            self.notify_decoding_error(e, request)
            raise Http404 from e
        self.notify_tracking_event(tracking_result)
        return HttpResponse(TRACKING_PIXEL, content_type=PNG_MIME_TYPE)


def _client_ip(request: HttpRequest) -> str | None:
    try:
        from ipware import get_client_ip  # django-ipware, what pytracking used
    except ImportError:
        python_ipware = require(
            "python_ipware", package="python-ipware", extra="django", feature="client addresses"
        )
        ip, _ = python_ipware.IpWare().get_client_ip(request.META)
        return None if ip is None else str(ip)
    found: str | None = get_client_ip(request)[0]
    return found


def get_request_data(request: HttpRequest) -> dict[str, Any]:
    """The user agent and the client address of a Django request.

    Returns:
        ``{"user_agent": ..., "user_ip": ...}``, as pytracking.
    """
    return {"user_agent": request.META.get("HTTP_USER_AGENT"), "user_ip": _client_ip(request)}


def get_configuration_from_settings(
    settings_name: str = "PYTRACKING_CONFIGURATION",
) -> Configuration:
    """A `Configuration` from the keyword arguments in ``settings.<settings_name>``."""
    kwargs = getattr(settings, settings_name)
    return get_configuration(None, kwargs)


def get_tracking_result(
    request: HttpRequest,
    path: str,
    is_open: bool,
    configuration: Configuration | None = None,
    **kwargs: Any,
) -> TrackingResult:
    """Decode ``path`` (the token part of the URL) with the request's data attached.

    Args:
        request: The Django request.
        path: The encoded part of the URL.
        is_open: Whether this is an open-tracking link.
        configuration: A `Configuration`; ``kwargs`` override its attributes.
        **kwargs: Configuration attributes.

    Raises:
        InvalidLegacyToken: The token does not decode.
    """
    configuration = get_configuration(configuration, kwargs)
    request_data = get_request_data(request)
    return configuration.get_tracking_result(path, request_data, is_open)
