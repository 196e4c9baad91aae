"""Drop-in replacement for pytracking 0.2.x's public API.

Change ``import pytracking`` to ``from trackcodec.compat import pytracking``
and everything keeps working, including links already sent: the same
functions, signatures and ``configuration=`` plus ``**kwargs`` override
rules; byte-identical URLs in plain mode; Fernet tokens that pytracking
decodes and vice versa.

Differences, all fixes:

- ``Configuration(append_slash=True)`` is honoured (pytracking ignores it),
  and a trailing slash is accepted when decoding.
- Calls without ``**kwargs`` reuse the configuration instead of deep-copying
  it (and rebuilding its Fernet key) on every call.
- A token that does not decode raises `InvalidLegacyToken`, which is both a
  `trackcodec.InvalidToken` and what pytracking raised: a ``ValueError`` in
  plain mode, ``cryptography.fernet.InvalidToken`` in Fernet mode, so
  existing ``except`` clauses keep catching it.

Plain mode is what it was in pytracking: unauthenticated. Anyone can forge a
click URL to any target (an open redirect) or a webhook URL. Move to
`trackcodec.Tracker`, which reads these legacy links with ``accept_legacy``.
"""

from __future__ import annotations

import base64
import time
from collections import namedtuple
from copy import deepcopy
from typing import Any
from urllib.parse import urljoin

from trackcodec import legacy
from trackcodec.errors import InvalidToken

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "PNG_MIME_TYPE",
    "TRACKING_PIXEL",
    "Configuration",
    "InvalidLegacyToken",
    "TrackingResult",
    "TrackingResultJSON",
    "get_click_tracking_result",
    "get_click_tracking_url",
    "get_click_tracking_url_path",
    "get_configuration",
    "get_open_tracking_pixel",
    "get_open_tracking_result",
    "get_open_tracking_url",
    "get_open_tracking_url_path",
]

TRACKING_PIXEL = base64.b64decode(
    b"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
"""A transparent 1x1 PNG, the same bytes pytracking serves."""

PNG_MIME_TYPE = "image/png"

DEFAULT_TIMEOUT_SECONDS = 5


class InvalidLegacyToken(InvalidToken, ValueError):
    """A pytracking token that does not decode (plain mode: also a ``ValueError``)."""


_fernet_error_type: type[InvalidToken] | None = None


def _fernet_error() -> type[InvalidToken]:
    """An exception type that is also ``cryptography.fernet.InvalidToken``."""
    global _fernet_error_type
    if _fernet_error_type is None:
        from cryptography.fernet import InvalidToken as CryptographyInvalidToken

        _fernet_error_type = type(
            "InvalidLegacyFernetToken",
            (InvalidLegacyToken, CryptographyInvalidToken),
            {"__doc__": "A pytracking Fernet token that does not decode."},
        )
    return _fernet_error_type


class Configuration:
    """pytracking's ``Configuration``, same arguments and attributes.

    Args:
        webhook_url: The webhook to notify when a click or open is registered.
        webhook_timeout_seconds: Timeout of webhook calls.
        include_webhook_url: Put the webhook URL in the tracking links.
        base_open_tracking_url: Base URL of open tracking links.
        base_click_tracking_url: Base URL of click tracking links.
        default_metadata: Metadata associated with every tracking event.
        include_default_metadata: Put the default metadata in the links.
        encryption_bytestring_key: A Fernet key; without one, links are plain
            (readable and forgeable by anyone).
        encoding: Text encoding of the JSON payload.
        append_slash: Append ``/`` to tracking URLs (honoured here, unlike pytracking).
        **kwargs: Kept in ``self.kwargs``, as pytracking does.
    """

    def __init__(
        self,
        webhook_url: str | None = None,
        webhook_timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        include_webhook_url: bool = False,
        base_open_tracking_url: str | None = None,
        base_click_tracking_url: str | None = None,
        default_metadata: dict[str, Any] | None = None,
        include_default_metadata: bool = False,
        encryption_bytestring_key: str | bytes | None = None,
        encoding: str = "utf-8",
        append_slash: bool = False,
        **kwargs: Any,
    ) -> None:
        self.webhook_url = webhook_url
        self.webhook_timeout_seconds = webhook_timeout_seconds
        self.include_webhook_url = include_webhook_url
        self.base_open_tracking_url = base_open_tracking_url
        self.base_click_tracking_url = base_click_tracking_url
        self.default_metadata = default_metadata
        self.include_default_metadata = include_default_metadata
        self.encryption_bytestring_key = encryption_bytestring_key
        self.encoding = encoding
        self.append_slash = append_slash
        self.kwargs = kwargs

    def __str__(self) -> str:
        return (
            "<pytracking.Configuration> "
            f"Open Tracking URL: {self.base_open_tracking_url} "
            f"Click Tracking URL: {self.base_click_tracking_url} "
            f"Webhook URL: {self.webhook_url}"
        )

    def merge_with_kwargs(self, kwargs: dict[str, Any]) -> Configuration:
        """Return a copy with the attributes named in ``kwargs`` replaced (others ignored)."""
        new_configuration = deepcopy(self)
        for key, value in kwargs.items():
            # pytracking recomputed encryption_key from encryption_bytestring_key
            # after merging, so a value passed for it never took effect.
            if key != "encryption_key" and hasattr(new_configuration, key):
                setattr(new_configuration, key, value)
        return new_configuration

    @property
    def _fernet_key(self) -> bytes | None:
        """The decoded Fernet key, or ``None`` in plain mode."""
        key = self.encryption_bytestring_key
        return legacy.parse_fernet_key(key) if key else None

    @property
    def encryption_key(self) -> Any:
        """A ``cryptography.fernet.Fernet`` of the key, or ``None`` in plain mode.

        The same object pytracking exposed under this name.
        """
        key = self.encryption_bytestring_key
        if not key:
            return None
        from cryptography.fernet import Fernet

        return Fernet(key)

    def cache_encryption_key(self) -> None:
        """Check the Fernet key (pytracking built its Fernet object here; this one needs none)."""
        if self.encryption_bytestring_key:
            legacy.parse_fernet_key(self.encryption_bytestring_key)

    def get_data_to_embed(
        self, url_to_track: str | None, extra_metadata: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The dict pytracking puts in a link: ``url``, ``metadata``, ``webhook``."""
        data: dict[str, Any] = {}
        if url_to_track:
            data["url"] = url_to_track
        metadata: dict[str, Any] = {}
        if self.include_default_metadata and self.default_metadata:
            metadata.update(self.default_metadata)
        if extra_metadata:
            metadata.update(extra_metadata)
        if metadata:
            data["metadata"] = metadata
        if self.include_webhook_url and self.webhook_url:
            data["webhook"] = self.webhook_url
        return data

    def get_url_encoded_data_str(self, data_to_embed: dict[str, Any]) -> str:
        """Encode the embedded data as pytracking does (Fernet, or plain base64 JSON)."""
        key = self._fernet_key
        if key is not None:
            return legacy.dumps_fernet(data_to_embed, key, self.encoding)
        return legacy.dumps_plain(data_to_embed, self.encoding)

    def _url(self, base: str | None, data_str: str) -> str:
        url = urljoin(base or "", data_str)
        return url + "/" if self.append_slash else url

    def get_open_tracking_url_from_data_str(self, data_str: str) -> str:
        """Join the open tracking base URL and an encoded token."""
        return self._url(self.base_open_tracking_url, data_str)

    def get_click_tracking_url_from_data_str(self, data_str: str) -> str:
        """Join the click tracking base URL and an encoded token."""
        return self._url(self.base_click_tracking_url, data_str)

    def get_open_tracking_url(self, extra_metadata: dict[str, Any] | None) -> str:
        """Build an open tracking URL."""
        data_str = self.get_url_encoded_data_str(self.get_data_to_embed(None, extra_metadata))
        return self.get_open_tracking_url_from_data_str(data_str)

    def get_click_tracking_url(
        self, url_to_track: str, extra_metadata: dict[str, Any] | None
    ) -> str:
        """Build a click tracking URL."""
        data = self.get_data_to_embed(url_to_track, extra_metadata)
        return self.get_click_tracking_url_from_data_str(self.get_url_encoded_data_str(data))

    def get_tracking_result(
        self, encoded_url_path: str, request_data: Any, is_open: bool
    ) -> TrackingResult:
        """Decode a token (or a path ending with one) into a `TrackingResult`.

        Raises:
            InvalidLegacyToken: The token does not decode.
        """
        timestamp = int(time.time())
        # Tokens never contain "/": a trailing one comes from append_slash or a router.
        token = encoded_url_path.removeprefix("/").removesuffix("/")
        key = self._fernet_key
        try:
            if key is not None:
                data, _ = legacy.loads_fernet(token, (key,), encoding=self.encoding)
            else:
                data = legacy.decode_plain(token, encoding=self.encoding)
        except InvalidToken as exc:
            error = _fernet_error() if key is not None else InvalidLegacyToken
            raise error(str(exc)) from exc

        metadata: dict[str, Any] = {}
        if not self.include_default_metadata and self.default_metadata:
            metadata.update(self.default_metadata)
        token_metadata = data.get("metadata", {})
        if not isinstance(token_metadata, dict):  # pytracking raised TypeError here
            raise (_fernet_error() if key is not None else InvalidLegacyToken)(
                "token metadata is not a JSON object"
            )
        metadata.update(token_metadata)
        webhook_url = data.get("webhook") if self.include_webhook_url else self.webhook_url
        return TrackingResult(
            is_open_tracking=is_open,
            is_click_tracking=not is_open,
            tracked_url=data.get("url"),
            webhook_url=webhook_url,
            metadata=metadata,
            request_data=request_data,
            timestamp=timestamp,
        )

    def get_click_tracking_url_path(self, url: str) -> str:
        """The part of a click tracking URL after the base URL."""
        return url[len(self.base_click_tracking_url or "") :]

    def get_open_tracking_url_path(self, url: str) -> str:
        """The part of an open tracking URL after the base URL."""
        return url[len(self.base_open_tracking_url or "") :]


TrackingResultJSON = namedtuple(
    "TrackingResultJSON",
    [
        "is_open_tracking",
        "is_click_tracking",
        "tracked_url",
        "webhook_url",
        "metadata",
        "request_data",
        "timestamp",
    ],
)


class TrackingResult:
    """pytracking's ``TrackingResult``: what a tracking link said.

    Args:
        is_open_tracking: Whether this is an open event.
        is_click_tracking: Whether this is a click event.
        tracked_url: The URL to redirect to (click tracking).
        webhook_url: The webhook to notify.
        metadata: The metadata of the link.
        request_data: Data about the request attached by the caller.
        timestamp: Decode time, Unix seconds.
    """

    def __init__(
        self,
        is_open_tracking: bool = False,
        is_click_tracking: bool = False,
        tracked_url: str | None = None,
        webhook_url: str | None = None,
        metadata: dict[str, Any] | None = None,
        request_data: Any = None,
        timestamp: int | None = None,
    ) -> None:
        self.is_open_tracking = is_open_tracking
        self.is_click_tracking = is_click_tracking
        self.tracked_url = tracked_url
        self.webhook_url = webhook_url
        self.metadata = metadata
        self.request_data = request_data
        self.timestamp = timestamp

    def to_json_dict(self) -> TrackingResultJSON:
        """The result as a namedtuple that ``json.dumps`` encodes."""
        return TrackingResultJSON(
            self.is_open_tracking,
            self.is_click_tracking,
            self.tracked_url,
            self.webhook_url,
            self.metadata,
            self.request_data,
            self.timestamp,
        )

    def __str__(self) -> str:
        return (
            f"<pytracking.TrackingResult> is_open_tracking: {self.is_open_tracking} "
            f"is_click_tracking: {self.is_click_tracking} tracked_url: {self.tracked_url}"
        )


def get_configuration(configuration: Configuration | None, kwargs: dict[str, Any]) -> Configuration:
    """Merge a configuration and per-call keyword arguments (the latter win).

    Without keyword arguments the configuration itself is returned, not a copy.
    """
    if configuration is None:
        return Configuration().merge_with_kwargs(kwargs)
    if not kwargs:
        return configuration
    return configuration.merge_with_kwargs(kwargs)


def get_open_tracking_url(
    metadata: dict[str, Any] | None = None,
    configuration: Configuration | None = None,
    **kwargs: Any,
) -> str:
    """Return an open tracking URL carrying ``metadata``.

    Args:
        metadata: JSON-serializable dict to put in the link.
        configuration: Settings; ``kwargs`` override them for this call.
        **kwargs: `Configuration` attributes.
    """
    return get_configuration(configuration, kwargs).get_open_tracking_url(metadata)


def get_open_tracking_pixel() -> tuple[bytes, str]:
    """Return the transparent 1x1 PNG and its MIME type."""
    return TRACKING_PIXEL, PNG_MIME_TYPE


def get_click_tracking_url(
    url_to_track: str,
    metadata: dict[str, Any] | None = None,
    configuration: Configuration | None = None,
    **kwargs: Any,
) -> str:
    """Return a click tracking URL that leads to ``url_to_track``.

    Args:
        url_to_track: The link's target.
        metadata: JSON-serializable dict to put in the link.
        configuration: Settings; ``kwargs`` override them for this call.
        **kwargs: `Configuration` attributes.
    """
    return get_configuration(configuration, kwargs).get_click_tracking_url(url_to_track, metadata)


def _result(
    encoded_url_path: str,
    base: str | None,
    request_data: Any,
    configuration: Configuration,
    is_open: bool,
) -> TrackingResult:
    if base and encoded_url_path.startswith(base):
        encoded_url_path = encoded_url_path[len(base) :]
    return configuration.get_tracking_result(encoded_url_path, request_data, is_open=is_open)


def get_click_tracking_result(
    encoded_url_path: str,
    request_data: Any = None,
    configuration: Configuration | None = None,
    **kwargs: Any,
) -> TrackingResult:
    """Decode a click tracking URL, or the part of it after the base URL.

    Args:
        encoded_url_path: The full URL or its path part.
        request_data: Anything to attach to the result.
        configuration: Settings; ``kwargs`` override them for this call.
        **kwargs: `Configuration` attributes.

    Raises:
        InvalidLegacyToken: The token does not decode.
    """
    config = get_configuration(configuration, kwargs)
    return _result(encoded_url_path, config.base_click_tracking_url, request_data, config, False)


def get_open_tracking_result(
    encoded_url_path: str,
    request_data: Any = None,
    configuration: Configuration | None = None,
    **kwargs: Any,
) -> TrackingResult:
    """Decode an open tracking URL, or the part of it after the base URL.

    Same arguments and errors as `get_click_tracking_result`.
    """
    config = get_configuration(configuration, kwargs)
    return _result(encoded_url_path, config.base_open_tracking_url, request_data, config, True)


def get_click_tracking_url_path(
    url: str, configuration: Configuration | None = None, **kwargs: Any
) -> str:
    """Return the part of a click tracking URL that `get_click_tracking_result` needs."""
    return get_configuration(configuration, kwargs).get_click_tracking_url_path(url)


def get_open_tracking_url_path(
    url: str, configuration: Configuration | None = None, **kwargs: Any
) -> str:
    """Return the part of an open tracking URL that `get_open_tracking_result` needs."""
    return get_configuration(configuration, kwargs).get_open_tracking_url_path(url)
