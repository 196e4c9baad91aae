"""The framework-neutral tracking endpoint: a request in, a response and an event out.

`TrackingEndpoint` does everything a tracking URL's HTTP side needs and
nothing else: it decodes the token, answers with the pixel or the redirect
(or a 404, a 405, the fallback URL), resolves the client address, labels the
request human or machine, and builds the `TrackingEvent`. It does no I/O:
the framework adapters (``trackcodec.django``, ``trackcodec.flask``,
``trackcodec.starlette``, ``trackcodec.wsgi``, ``trackcodec.asgi``) translate
their request into an `EndpointRequest`, send the `EndpointResponse` back,
and hand ``response.event`` to hooks and sinks.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import to_jsonable_python

from trackcodec.client_ip import ClientIPResolver
from trackcodec.config import TrackingConfig, _error_from
from trackcodec.errors import ConfigurationError, InvalidToken, LimitExceeded, PayloadError
from trackcodec.event import TrackingEvent, new_event_id
from trackcodec.machine import MachineClassifier
from trackcodec.result import TrackingKind, TrackingResult
from trackcodec.tracking import Tracker

__all__ = [
    "ALLOWED_METHODS",
    "GIF_PIXEL",
    "PNG_PIXEL",
    "EndpointRequest",
    "EndpointResponse",
    "EndpointSettings",
    "RouteNotFound",
    "TrackingEndpoint",
]

GIF_PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
"""A transparent 1x1 GIF, 43 bytes: the default open-tracking pixel."""

PNG_PIXEL = base64.b64decode(
    b"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
"""The transparent 1x1 PNG pytracking serves (``pixel="png"``)."""

ALLOWED_METHODS = ("GET", "HEAD")
"""The methods a tracking URL answers; others get ``405`` with an ``Allow`` header."""

_NO_CACHE = (
    ("cache-control", "no-store, no-cache, must-revalidate, private"),
    ("pragma", "no-cache"),
    ("expires", "0"),
)
_NOT_FOUND_BODY = b"Not Found"
_NOT_ALLOWED_BODY = b"Method Not Allowed"


class RouteNotFound(InvalidToken):
    """The request's path is under neither tracking base URL (`TrackingEndpoint.handle`)."""


class EndpointSettings(BaseModel):
    """How a `TrackingEndpoint` answers, beyond what the `Tracker` decides.

    Attributes:
        pixel: ``"gif"`` (43 bytes, default) or ``"png"`` (pytracking's bytes).
        invalid_open: What a bad open token gets: ``"not-found"`` (404, as
            pytracking; default) or ``"pixel"`` (the pixel anyway, so the
            message never shows a broken image; no event is recorded).
        redirect_status: Status of click redirects (302 by default).
        trusted_proxy_count: Proxies in front of the application, the socket
            peer included (see `trackcodec.client_ip`).
        trusted_proxies: The proxy hops, outermost first, the peer last.
        forwarded_header: Header the trusted proxies write the chain in.
        max_path_length: Longer paths (plus query) get a 404 before any decoding.
        early_seconds: Requests sooner than this after the token's issue time
            are a machine's (``0``: off).
        machine_user_agents: More regular expressions of machine user agents.
        use_crawlerdetect: Also ask the ``crawlerdetect`` package.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    pixel: Literal["gif", "png"] = "gif"
    invalid_open: Literal["not-found", "pixel"] = "not-found"
    redirect_status: Literal[301, 302, 303, 307, 308] = 302
    trusted_proxy_count: int | None = Field(default=None, ge=0)
    trusted_proxies: tuple[str, ...] = ()
    forwarded_header: str = "x-forwarded-for"
    max_path_length: int = Field(default=8192, ge=64)
    early_seconds: float = Field(default=2.0, ge=0)
    machine_user_agents: tuple[str, ...] = ()
    use_crawlerdetect: bool = False

    if not TYPE_CHECKING:

        def __init__(self, **data: Any) -> None:
            try:
                super().__init__(**data)
            except ValidationError as exc:
                raise _error_from(exc) from None

    @model_validator(mode="after")
    def _check_proxies(self) -> EndpointSettings:
        if self.trusted_proxy_count and self.trusted_proxies:
            raise ConfigurationError(
                "give trusted_proxy_count or trusted_proxies, not both", field="trusted_proxies"
            )
        return self


@dataclass(frozen=True, slots=True)
class EndpointRequest:
    """An HTTP request, as much of it as a tracking endpoint reads.

    Attributes:
        method: ``"GET"``, ``"HEAD"``...
        path: The path as received, e.g. ``"/o/<token>"`` (no query).
        headers: Header names in lower case; several headers of one name
            joined with ``", "``.
        peer: The socket peer's address.
        query: The raw query string (legacy tokens and ``token_param`` put
            the token there).
    """

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    peer: str | None = None
    query: str = ""


@dataclass(frozen=True, slots=True)
class EndpointResponse:
    """What to answer, and what happened.

    Attributes:
        status: HTTP status code.
        headers: Header (name, value) pairs, names in lower case.
        body: The body; empty for ``HEAD`` and redirects.
        kind: ``"open"`` or ``"click"``, ``None`` when the route is unknown.
        event: The event to record, set iff the token was valid.
        error: Why the token was refused, set iff it was (never in the body).
    """

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    kind: Literal["open", "click"] | None
    event: TrackingEvent | None
    error: InvalidToken | None


def _ascii_location(url: str) -> str:
    """``url`` in the ASCII a ``Location`` header can carry.

    Only non-ASCII characters change: each becomes the %-escapes of its UTF-8
    bytes, which browsers read back as the same URL (the WHATWG URL parser
    percent-decodes a host before its IDNA mapping, so a host keeps the
    meaning the browser would give it, unlike an IDNA 2003 encoding here).
    """
    if url.isascii():
        return url
    return "".join(c if c.isascii() else quote(c, safe="") for c in url)


def _prefix_path(base: str | None) -> str | None:
    if base is None:
        return None
    path = urlsplit(base).path or "/"
    return path if path.endswith("/") else path + "/"


class TrackingEndpoint:
    """Answers tracking requests for one `Tracker`: pure, thread-safe, reusable.

    Args:
        tracker: Decodes the tokens (its ``fallback_url`` is where bad click
            links go instead of a 404).
        settings: How to answer; defaults when omitted.
        classifier: Labels requests human or machine; built from ``settings``
            when omitted.

    Raises:
        ConfigurationError: Invalid settings.
        MissingDependencyError: Trusted proxies without ``python-ipware``, or
            ``use_crawlerdetect`` without ``crawlerdetect``.

    Examples:
        >>> endpoint = TrackingEndpoint(tracker)
        >>> url = tracker.open_url({"customer_id": 7})
        >>> path = "/" + url.split("/", 3)[3]
        >>> response = endpoint.handle_open(EndpointRequest("GET", path))
        >>> response.status, response.event.metadata
        (200, {'customer_id': 7})
    """

    def __init__(
        self,
        tracker: Tracker[Any],
        *,
        settings: EndpointSettings | None = None,
        classifier: MachineClassifier | None = None,
    ) -> None:
        self.tracker = tracker
        self.settings = settings = settings if settings is not None else EndpointSettings()
        self.classifier = classifier or MachineClassifier(
            early_seconds=settings.early_seconds,
            extra_user_agents=settings.machine_user_agents,
            use_crawlerdetect=settings.use_crawlerdetect,
        )
        try:
            self._ip = ClientIPResolver(
                trusted_proxy_count=settings.trusted_proxy_count,
                trusted_proxies=settings.trusted_proxies,
                forwarded_header=settings.forwarded_header,
            )
        except ValueError as exc:  # an entry that is no address, network or prefix
            raise ConfigurationError(
                f"invalid setting trusted_proxies: {exc}", field="trusted_proxies"
            ) from exc
        pixel = GIF_PIXEL if settings.pixel == "gif" else PNG_PIXEL
        self._pixel = pixel
        self._pixel_headers = (
            ("content-type", "image/gif" if settings.pixel == "gif" else "image/png"),
            ("content-length", str(len(pixel))),
            *_NO_CACHE,
        )
        self._fallback = (
            None
            if tracker.config.fallback_url is None
            else _ascii_location(tracker.config.fallback_url)
        )
        self._open_path = _prefix_path(tracker.config.base_open_tracking_url)
        self._click_path = _prefix_path(tracker.config.base_click_tracking_url)

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, Any], *, metadata_model: type[Any] | None = None
    ) -> TrackingEndpoint:
        """Build a tracker and an endpoint from one flat mapping of settings.

        Keys that are `TrackingConfig` fields configure the tracker, the
        others the `EndpointSettings` (Django's ``TRACKCODEC`` setting, say).

        Raises:
            ConfigurationError: An unknown or invalid setting.
        """
        tracking = {k: v for k, v in settings.items() if k in TrackingConfig.model_fields}
        serving = {k: v for k, v in settings.items() if k not in tracking}
        config = TrackingConfig.from_dict(tracking)
        tracker: Tracker[Any] = (
            Tracker(config, metadata_model=metadata_model) if metadata_model else Tracker(config)
        )
        return cls(tracker, settings=EndpointSettings(**serving))

    # -- routing --------------------------------------------------------------------------

    def route(self, path: str) -> TrackingKind | None:
        """The kind of tracking URL ``path`` is under (the longest base path wins), if any."""
        best: TrackingKind | None = None
        length = -1
        for kind, prefix in (("open", self._open_path), ("click", self._click_path)):
            if prefix is not None and path.startswith(prefix) and len(prefix) > length:
                best, length = kind, len(prefix)  # type: ignore[assignment]
        return best

    def handle(self, request: EndpointRequest, *, now: float | None = None) -> EndpointResponse:
        """Answer a request under either base URL, routed by the longest matching base path.

        A path under neither gets a 404 whose ``error`` is a `RouteNotFound`.
        """
        kind = self.route(request.path)
        if kind == "open":
            return self.handle_open(request, now=now)
        if kind == "click":
            return self.handle_click(request, now=now)
        return self._not_found(request, None, RouteNotFound("path is under no tracking base URL"))

    def handle_open(
        self, request: EndpointRequest, *, now: float | None = None
    ) -> EndpointResponse:
        """Answer an open-tracking (pixel) request.

        Returns:
            200 with the pixel and an event; 404 (or the pixel, with
            ``invalid_open="pixel"``) with the error for a bad token; 405 for
            methods other than GET and HEAD.
        """
        if request.method not in ALLOWED_METHODS:
            return self._not_allowed("open")
        received = time.time() if now is None else now
        try:
            result = self._parse(request, "open", now)
        except InvalidToken as exc:
            if self.settings.invalid_open == "pixel":
                return self._pixel_response(request, None, exc)
            return self._not_found(request, "open", exc)
        event = self._event(request, result, received)
        return self._pixel_response(request, event, None)

    def handle_click(
        self, request: EndpointRequest, *, now: float | None = None
    ) -> EndpointResponse:
        """Answer a click-tracking request.

        Returns:
            A redirect (``Referrer-Policy: no-referrer``) to the target with
            an event; for a bad token, a redirect to the tracker's
            ``fallback_url`` or a 404, with the error; 405 for methods other
            than GET and HEAD.
        """
        if request.method not in ALLOWED_METHODS:
            return self._not_allowed("click")
        received = time.time() if now is None else now
        try:
            result = self._parse(request, "click", now)
        except InvalidToken as exc:
            if self._fallback is not None:
                return self._redirect(self._fallback, None, exc)
            return self._not_found(request, "click", exc)
        event = self._event(request, result, received)
        return self._redirect(_ascii_location(event.tracked_url or ""), event, None)

    # -- building blocks --------------------------------------------------------------------

    def _parse(
        self, request: EndpointRequest, kind: TrackingKind, now: float | None
    ) -> TrackingResult[Any]:
        path = request.path
        if len(path) + len(request.query) > self.settings.max_path_length:
            raise LimitExceeded("request path is longer than max_path_length")
        url = f"{path}?{request.query}" if request.query else path
        if kind == "click":
            return self.tracker.parse_click(url, now=now)
        result = self.tracker.parse_open(url, now=now)
        if result.tracked_url is not None:
            # Open URLs never carry a target; this is a click link on the pixel route.
            raise PayloadError("a click token on the open-tracking route")
        return result

    def client_ip(self, request: EndpointRequest) -> str | None:
        """The client's address, through the trusted proxies only."""
        return self._ip.resolve(request.headers, request.peer)

    def _event(
        self, request: EndpointRequest, result: TrackingResult[Any], received: float
    ) -> TrackingEvent:
        client_ip = self._ip.resolve(request.headers, request.peer)
        user_agent = request.headers.get("user-agent")
        likely, reason = self.classifier.classify(
            kind=result.kind,
            method=request.method,
            user_agent=user_agent,
            client_ip=client_ip,
            issued_at=result.issued_at,
            now=received,
        )
        metadata = result.metadata
        if isinstance(metadata, BaseModel):
            metadata = metadata.model_dump(mode="json", by_alias=True)
        else:
            metadata = to_jsonable_python(metadata, bytes_mode="base64")
        return TrackingEvent(
            id=new_event_id(now=received),
            kind=result.kind,
            timestamp=received,
            tracked_url=result.tracked_url,
            metadata=metadata,
            webhook_url=result.webhook_url,
            issued_at=result.issued_at,
            key_id=result.key_id,
            authenticated=result.authenticated,
            legacy=result.legacy,
            client_ip=client_ip,
            user_agent=user_agent,
            method=request.method,
            likely=likely,
            machine_reason=reason,
        )

    def _pixel_response(
        self, request: EndpointRequest, event: TrackingEvent | None, error: InvalidToken | None
    ) -> EndpointResponse:
        body = b"" if request.method == "HEAD" else self._pixel
        return EndpointResponse(200, self._pixel_headers, body, "open", event, error)

    def _redirect(
        self, location: str, event: TrackingEvent | None, error: InvalidToken | None
    ) -> EndpointResponse:
        headers = (
            ("location", location),
            ("cache-control", "no-store"),
            ("referrer-policy", "no-referrer"),
            ("content-length", "0"),
        )
        return EndpointResponse(self.settings.redirect_status, headers, b"", "click", event, error)

    @staticmethod
    def _not_found(
        request: EndpointRequest, kind: TrackingKind | None, error: InvalidToken
    ) -> EndpointResponse:
        headers = (
            ("content-type", "text/plain; charset=utf-8"),
            ("content-length", str(len(_NOT_FOUND_BODY))),
            ("cache-control", "no-store"),
        )
        body = b"" if request.method == "HEAD" else _NOT_FOUND_BODY
        return EndpointResponse(404, headers, body, kind, None, error)

    @staticmethod
    def _not_allowed(kind: TrackingKind) -> EndpointResponse:
        headers = (
            ("allow", ", ".join(ALLOWED_METHODS)),
            ("content-type", "text/plain; charset=utf-8"),
            ("content-length", str(len(_NOT_ALLOWED_BODY))),
            ("cache-control", "no-store"),
        )
        return EndpointResponse(405, headers, _NOT_ALLOWED_BODY, kind, None, None)
