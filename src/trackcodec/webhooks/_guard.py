"""Where webhooks may go: the allow-list and the SSRF guard."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from trackcodec.webhooks._errors import DestinationNotAllowed, DestinationUnresolvable

if TYPE_CHECKING:
    from trackcodec.config import TrackingConfig

__all__ = ["DestinationPolicy", "Resolver"]

Resolver = Callable[[str, int], Sequence[str]]
"""Resolves ``(host, port)`` to IP address strings (default: ``socket.getaddrinfo``)."""

_SCHEMES = {"http": 80, "https": 443}
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _resolve(host: str, port: int) -> Sequence[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _why_not_public(ip: IPAddress) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for attribute, what in (
        ("is_unspecified", "an unspecified"),
        ("is_loopback", "a loopback"),
        ("is_link_local", "a link-local"),
        ("is_multicast", "a multicast"),
        ("is_private", "a private"),
        ("is_reserved", "a reserved"),
    ):
        if getattr(ip, attribute):
            return f"{ip} is {what} address"
    if not ip.is_global:  # shared address space (100.64/10) and the like
        return f"{ip} is not a public address"
    return None


class DestinationPolicy:
    """Decides whether events may be posted to a URL.

    Two checks. `choose` picks the destination of an event: the URL the
    token asks for only when it is on the allow-list, else the default URL.
    `check` runs right before each delivery attempt: only ``http`` and
    ``https``; the host name is resolved and every address must be public
    (no loopback, private, link-local, multicast or reserved ranges) unless
    ``allow_private_addresses`` is set, for receivers on your own network.

    Args:
        default_url: Where events go when their token names no allowed
            webhook (the operator's receiver), or ``None``.
        allowed_urls: Other URLs a token may name (exact match), as in
            `TrackingConfig.allowed_webhook_urls`.
        allow_private_addresses: Accept hosts that resolve to loopback,
            private or link-local addresses.
        resolver: ``(host, port) -> addresses``; defaults to the system's
            resolver (tests pass their own).

    Raises:
        DestinationNotAllowed: ``default_url`` or an allowed URL is not http(s).
    """

    def __init__(
        self,
        *,
        default_url: str | None = None,
        allowed_urls: Iterable[str] = (),
        allow_private_addresses: bool = False,
        resolver: Resolver | None = None,
    ) -> None:
        self.default_url = default_url
        self.allowed_urls = frozenset(
            (*allowed_urls, *((default_url,) if default_url is not None else ()))
        )
        self.allow_private_addresses = allow_private_addresses
        self._resolver = resolver or _resolve
        for url in self.allowed_urls:
            self._split(url)

    @classmethod
    def from_config(
        cls,
        config: TrackingConfig,
        *,
        allow_private_addresses: bool = False,
        resolver: Resolver | None = None,
    ) -> DestinationPolicy:
        """The policy of a `TrackingConfig`: its ``webhook_url`` and ``allowed_webhook_urls``."""
        return cls(
            default_url=config.webhook_url,
            allowed_urls=config.allowed_webhook_urls,
            allow_private_addresses=allow_private_addresses,
            resolver=resolver,
        )

    def choose(self, requested: str | None) -> str | None:
        """The URL to post an event to: ``requested`` if allowed, else the default URL."""
        if requested is not None and requested in self.allowed_urls:
            return requested
        return self.default_url

    @staticmethod
    def _split(url: str) -> tuple[str, int]:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise DestinationNotAllowed(url, f"not a valid URL ({exc})") from exc
        scheme = parts.scheme.lower()
        if scheme not in _SCHEMES:
            raise DestinationNotAllowed(url, f"scheme {scheme!r} is not http or https")
        if not parts.hostname:
            raise DestinationNotAllowed(url, "no host")
        return parts.hostname, port or _SCHEMES[scheme]

    def check(self, url: str) -> None:
        """Refuse ``url`` unless it is http(s) to a permitted address.

        Resolves the host name (blocking); call it right before connecting.

        Raises:
            DestinationNotAllowed: Not http(s), no host, or an address that is
                not public while private addresses are not allowed. Final.
            DestinationUnresolvable: The host does not resolve now; retry later.
        """
        host, port = self._split(url)
        if self.allow_private_addresses:
            return
        try:
            addresses = [ipaddress.ip_address(host.split("%", 1)[0])]
        except ValueError:
            try:
                addresses = [
                    ipaddress.ip_address(a.split("%", 1)[0]) for a in self._resolver(host, port)
                ]
            except (OSError, UnicodeError) as exc:
                raise DestinationUnresolvable(url, str(exc)) from exc
            if not addresses:
                raise DestinationUnresolvable(url, "no address") from None
        for address in addresses:
            reason = _why_not_public(address)
            if reason is not None:
                raise DestinationNotAllowed(url, reason)
