"""Django signals sent by the tracking views.

- `tracking_event`: ``sender`` is the view class; ``event`` the `TrackingEvent`,
  ``request`` the ``HttpRequest``. Sent for every valid open or click.
- `tracking_error`: ``sender`` is the view class; ``error`` the `InvalidToken`
  saying why a token was refused, ``request`` the ``HttpRequest``.
"""

from __future__ import annotations

from django.dispatch import Signal

__all__ = ["tracking_error", "tracking_event"]

tracking_event = Signal()
"""Sent with ``event`` and ``request`` for every valid open or click."""

tracking_error = Signal()
"""Sent with ``error`` and ``request`` when a token is refused (404 or fallback URL)."""
