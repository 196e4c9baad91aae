"""The client address of a tracking request, trusting only the proxies it is told to.

Without trusted proxies the client is the socket peer, and ``X-Forwarded-For``
is ignored: any client can write that header. With them, the chain of the
forwarded header plus the peer is read with ``python-ipware``
(``pip install 'trackcodec[ipware]'``):

- ``trusted_proxy_count=N``: the last ``N`` hops (the peer counts as one) are
  your proxies, the hop before them is the client. Right when the application
  can only be reached through those proxies.
- ``trusted_proxies=[...]``: one entry per proxy hop, outermost first, the
  peer last; an entry is an address, a CIDR network or an address prefix. The
  forwarded header is used only when the trailing hops match them, so a
  client that connects directly cannot choose its address.

A request whose chain does not fit (too short, wrong proxies, no header) gets
the peer's address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from trackcodec._deps import require

__all__ = ["ClientIPResolver"]


def normalize_ip(text: str | None) -> str | None:
    """The canonical form of an address (IPv4-mapped IPv6 unwrapped), or ``None``."""
    if not text:
        return None
    try:
        ip = ipaddress.ip_address(text.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


class ClientIPResolver:
    """Resolves the client address of a request from its headers and socket peer.

    Args:
        trusted_proxy_count: How many proxies (the peer included) sit in
            front of the application (``0`` or ``None``: none).
        trusted_proxies: The proxy hops, outermost first, the peer last
            (addresses, CIDR networks or prefixes).
        forwarded_header: The header the proxies write, lower case.

    Raises:
        ValueError: Both a count and a list, a negative count, or an entry
            that is no address, network or prefix.
        MissingDependencyError: Trusted proxies without ``python-ipware``.
    """

    __slots__ = ("_header", "_ipware")

    def __init__(
        self,
        *,
        trusted_proxy_count: int | None = None,
        trusted_proxies: Sequence[str] = (),
        forwarded_header: str = "x-forwarded-for",
    ) -> None:
        if trusted_proxy_count and trusted_proxies:
            raise ValueError("give trusted_proxy_count or trusted_proxies, not both")
        if trusted_proxy_count is not None and trusted_proxy_count < 0:
            raise ValueError("trusted_proxy_count must not be negative")
        self._header = forwarded_header.lower()
        self._ipware: Any = None
        if trusted_proxy_count or trusted_proxies:
            module = require(
                "python_ipware",
                package="python-ipware",
                extra="ipware",
                feature="trusted proxies",
            )
            self._ipware = module.IpWare(
                precedence=("X_FORWARDED_FOR",),
                proxy_count=trusted_proxy_count or None,
                proxy_list=list(trusted_proxies) or None,
            )

    def resolve(self, headers: Mapping[str, str], peer: str | None) -> str | None:
        """Return the client's address, or ``None`` when it is unknown.

        Args:
            headers: Request headers, names in lower case (several headers of
                one name joined with ``", "``).
            peer: The socket peer's address.
        """
        peer_ip = normalize_ip(peer)
        if self._ipware is None or peer_ip is None:
            return peer_ip
        forwarded = headers.get(self._header)
        if not forwarded:
            return peer_ip
        chain = f"{forwarded}, {peer_ip}"
        ip, trusted = self._ipware.get_client_ip({"X_FORWARDED_FOR": chain})
        return normalize_ip(str(ip)) if ip is not None and trusted else peer_ip
