"""Signed webhook POSTs over httpx, sync and async, with the outcome classified."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from trackcodec import __version__
from trackcodec._deps import require
from trackcodec.event import TrackingEvent
from trackcodec.webhooks._errors import DestinationNotAllowed, DestinationUnresolvable
from trackcodec.webhooks._guard import DestinationPolicy
from trackcodec.webhooks._retry import parse_retry_after
from trackcodec.webhooks._signing import WebhookSigner, event_body

if TYPE_CHECKING:
    import httpx

__all__ = ["AsyncWebhookClient", "DeliveryOutcome", "WebhookClient", "classify_status"]

_USER_AGENT = f"trackcodec-webhooks/{__version__}"
_RETRYABLE_STATUS = frozenset({408, 429})


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What one delivery attempt came to.

    Attributes:
        result: ``"delivered"`` (2xx), ``"retry"`` (connection error, timeout,
            408, 429, 5xx, unresolvable host) or ``"failed"`` (any other
            answer, or a refused destination: final).
        status: The HTTP status, when there was an answer.
        retry_after: Seconds the receiver asked to wait (``Retry-After``).
        error: What went wrong, for the outbox's record.
    """

    result: Literal["delivered", "retry", "failed"]
    status: int | None = None
    retry_after: float | None = None
    error: str | None = None


def classify_status(
    status: int, headers: Mapping[str, str], *, now: float | None = None
) -> DeliveryOutcome:
    """Classify an HTTP answer: 2xx delivered; 408, 429, 5xx retry; others final."""
    if 200 <= status < 300:
        return DeliveryOutcome("delivered", status)
    if status in _RETRYABLE_STATUS or status >= 500:
        after = parse_retry_after(headers.get("retry-after"), now=now)
        return DeliveryOutcome("retry", status, after, f"HTTP {status}")
    return DeliveryOutcome("failed", status, None, f"HTTP {status}")


def _httpx() -> Any:
    return require("httpx", package="httpx", extra="webhooks", feature="webhooks")


def _request_headers(
    signer: WebhookSigner, msg_id: str, body: bytes, now: float | None
) -> dict[str, str]:
    headers = signer.headers(msg_id, body, now=now)
    headers["content-type"] = "application/json"
    headers["user-agent"] = _USER_AGENT
    return headers


def _transport_failure(exc: Exception) -> DeliveryOutcome:
    httpx = _httpx()
    if isinstance(exc, DestinationNotAllowed):
        return DeliveryOutcome("failed", error=str(exc))
    if isinstance(exc, DestinationUnresolvable):
        return DeliveryOutcome("retry", error=str(exc))
    if isinstance(exc, httpx.TimeoutException):
        return DeliveryOutcome("retry", error=f"timeout: {type(exc).__name__}")
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return DeliveryOutcome("failed", error=f"{type(exc).__name__}: {exc}")
    return DeliveryOutcome("retry", error=f"{type(exc).__name__}: {exc}")


def _caught() -> tuple[type[Exception], ...]:
    httpx = _httpx()
    return (DestinationNotAllowed, DestinationUnresolvable, httpx.TransportError, httpx.InvalidURL)


class _Base:
    def __init__(
        self,
        secrets: str | Sequence[str] | WebhookSigner,
        *,
        policy: DestinationPolicy | None,
        timeout: float,
    ) -> None:
        self.signer = secrets if isinstance(secrets, WebhookSigner) else WebhookSigner(secrets)
        self.policy = policy if policy is not None else DestinationPolicy()
        self.timeout = timeout

    def _options(self) -> dict[str, Any]:
        httpx = _httpx()
        # No redirects (a 3xx could point anywhere: it is a final answer), no
        # proxies from the environment (the SSRF guard checks the real target).
        return {
            "timeout": httpx.Timeout(self.timeout),
            "follow_redirects": False,
            "trust_env": False,
        }


class WebhookClient(_Base):
    """Posts signed webhooks with a pooled ``httpx.Client`` (one attempt per call).

    Retries are the outbox's job (`OutboxWorker`); this client makes one
    attempt and says what came of it, so it never raises for network errors.

    Args:
        secrets: ``whsec_`` secret(s), or a `WebhookSigner`.
        policy: The SSRF guard run before each attempt; the default refuses
            non-public addresses.
        timeout: Seconds for connecting, sending and reading (each).
        client: An ``httpx.Client`` to use (and not close) instead of the
            pooled one this client builds.

    Raises:
        MissingDependencyError: ``httpx`` or ``standardwebhooks`` is missing.
    """

    def __init__(
        self,
        secrets: str | Sequence[str] | WebhookSigner,
        *,
        policy: DestinationPolicy | None = None,
        timeout: float = 5.0,
        client: httpx.Client | None = None,
    ) -> None:
        super().__init__(secrets, policy=policy, timeout=timeout)
        self._owns_client = client is None
        self._client = client if client is not None else _httpx().Client(**self._options())

    def send(
        self, url: str, msg_id: str, body: bytes, *, now: float | None = None
    ) -> DeliveryOutcome:
        """POST ``body`` to ``url``, signed as message ``msg_id``; one attempt."""
        try:
            self.policy.check(url)
            response = self._client.post(
                url, content=body, headers=_request_headers(self.signer, msg_id, body, now)
            )
        except _caught() as exc:
            return _transport_failure(exc)
        return classify_status(response.status_code, response.headers, now=now)

    def send_event(self, url: str, event: TrackingEvent) -> DeliveryOutcome:
        """POST one event (its `event_body`, ``webhook-id`` = its id) to ``url``."""
        return self.send(url, event.id, event_body(event))

    def close(self) -> None:
        """Close the connection pool (if this client built it)."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> WebhookClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncWebhookClient(_Base):
    """The async twin of `WebhookClient`, on a pooled ``httpx.AsyncClient``.

    The SSRF guard's DNS lookup runs in a thread, off the event loop.

    Args:
        secrets: ``whsec_`` secret(s), or a `WebhookSigner`.
        policy: The SSRF guard run before each attempt.
        timeout: Seconds for connecting, sending and reading (each).
        client: An ``httpx.AsyncClient`` to use (and not close).
        max_connections: Size of the connection pool this client builds.

    Raises:
        MissingDependencyError: ``httpx`` or ``standardwebhooks`` is missing.
    """

    def __init__(
        self,
        secrets: str | Sequence[str] | WebhookSigner,
        *,
        policy: DestinationPolicy | None = None,
        timeout: float = 5.0,
        client: httpx.AsyncClient | None = None,
        max_connections: int = 32,
    ) -> None:
        super().__init__(secrets, policy=policy, timeout=timeout)
        self._owns_client = client is None
        if client is None:
            httpx = _httpx()
            limits = httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            )
            client = httpx.AsyncClient(limits=limits, **self._options())
        self._client = client

    async def send(
        self, url: str, msg_id: str, body: bytes, *, now: float | None = None
    ) -> DeliveryOutcome:
        """POST ``body`` to ``url``, signed as message ``msg_id``; one attempt."""
        try:
            if not self.policy.allow_private_addresses:
                await asyncio.to_thread(self.policy.check, url)
            else:
                self.policy.check(url)
            stamp = time.time() if now is None else now
            response = await self._client.post(
                url, content=body, headers=_request_headers(self.signer, msg_id, body, stamp)
            )
        except _caught() as exc:
            return _transport_failure(exc)
        return classify_status(response.status_code, response.headers, now=now)

    async def send_event(self, url: str, event: TrackingEvent) -> DeliveryOutcome:
        """POST one event (its `event_body`, ``webhook-id`` = its id) to ``url``."""
        return await self.send(url, event.id, event_body(event))

    async def aclose(self) -> None:
        """Close the connection pool (if this client built it)."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> AsyncWebhookClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
