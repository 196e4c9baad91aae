"""Exceptions of webhook delivery."""

from __future__ import annotations

from trackcodec.errors import TrackcodecError

__all__ = ["DestinationNotAllowed", "DestinationUnresolvable", "WebhookError"]


class WebhookError(TrackcodecError):
    """Root of the errors raised by `trackcodec.webhooks`."""


class DestinationNotAllowed(WebhookError, ValueError):
    """A webhook URL that delivery refuses (SSRF guard); final, never retried.

    Attributes:
        url: The refused URL.
        reason: Why, in a few words (``"scheme 'ftp' is not http or https"``,
            ``"127.0.0.1 is a loopback address"``...).
    """

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"webhook URL {url!r} refused: {reason}")
        self.url = url
        self.reason = reason


class DestinationUnresolvable(WebhookError):
    """The webhook's host name does not resolve (now); delivery retries later.

    Attributes:
        url: The URL whose host did not resolve.
    """

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"webhook URL {url!r}: host does not resolve: {reason}")
        self.url = url
        self.reason = reason
