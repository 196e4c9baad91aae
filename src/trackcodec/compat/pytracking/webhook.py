"""Drop-in replacement for ``pytracking.webhook``: `send_webhook` (``trackcodec[compat-webhook]``).

The same payload and the same call as pytracking 0.2.x: one
``requests.post(url, json=payload, timeout=webhook_timeout_seconds)``, so
tests that patch ``pytracking.webhook.requests.post`` keep working once
they patch ``trackcodec.compat.pytracking.webhook.requests.post``.

Like pytracking's, it is unsigned, not retried, and posts wherever the
result's ``webhook_url`` points: an event is lost when the receiver is
down. `trackcodec.webhooks` signs (Standard Webhooks), retries from a
durable outbox, and guards against SSRF; see the "Webhooks" guide.
"""

from __future__ import annotations

from typing import Any, cast

from trackcodec.compat.pytracking import Configuration, TrackingResult, get_configuration
from trackcodec.errors import MissingDependencyError

try:
    import requests
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise MissingDependencyError(
        "requests", "compat-webhook", feature="trackcodec.compat.pytracking.webhook"
    ) from exc

__all__ = ["send_webhook"]


def send_webhook(
    tracking_result: TrackingResult,
    configuration: Configuration | None = None,
    **kwargs: Any,
) -> requests.Response:
    """POST a JSON representation of ``tracking_result`` to its ``webhook_url``.

    The body, as pytracking sends it::

        {
            "is_open_tracking": false,
            "is_click_tracking": true,
            "metadata": {...},
            "request_data": null,
            "timestamp": 1389177318,
            "tracked_url": "http://..."
        }

    (``tracked_url`` only when the result has one.)

    Args:
        tracking_result: The result to post.
        configuration: Settings (``webhook_timeout_seconds``); ``kwargs``
            override them for this call.
        **kwargs: `Configuration` attributes.

    Returns:
        The ``requests.Response``.

    Raises:
        requests.RequestException: Whatever ``requests.post`` raises.
    """
    config = get_configuration(configuration, kwargs)
    payload: dict[str, Any] = {
        "is_open_tracking": tracking_result.is_open_tracking,
        "is_click_tracking": tracking_result.is_click_tracking,
        "metadata": tracking_result.metadata,
        "request_data": tracking_result.request_data,
        "timestamp": tracking_result.timestamp,
    }
    if tracking_result.tracked_url:
        payload["tracked_url"] = tracking_result.tracked_url
    # pytracking passes webhook_url as it is, None included (requests raises then).
    url = cast(str, tracking_result.webhook_url)
    return requests.post(url, json=payload, timeout=config.webhook_timeout_seconds)
