"""Redirect policy: which click targets a tracking endpoint may send a browser to."""

from __future__ import annotations

import re

from trackcodec.errors import RedirectNotAllowed

__all__ = ["RedirectPolicy"]

# Scheme, then the authority if any. Both patterns run in linear time: no two
# repeated character classes overlap where backtracking could split them.
_SCHEME_AND_AUTHORITY = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):(?://([^/?#]*))?")
# A control character could split the Location header a redirect is sent in.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]*")


def is_scheme(text: str) -> bool:
    """Whether ``text`` is a lowercase URL scheme (RFC 3986), written without ``://``."""
    return _SCHEME.fullmatch(text) is not None


_HIERARCHICAL = frozenset({"http", "https", "ftp", "ws", "wss"})


class RedirectPolicy:
    """Checks click targets: allowed schemes, optionally allowed hosts.

    URLs are read the way browsers read them where it matters for safety:
    control characters (which could split a ``Location`` header) and
    backslashes in the authority (``https://evil.example\\@good.example``,
    which browsers send to ``evil.example``) are refused, and http(s) URLs
    must name a host.

    Args:
        schemes: Allowed schemes, lowercase.
        hosts: Allowed hosts, lowercase; ``.example.com`` allows the domain
            and all its subdomains. ``None`` allows every host.
    """

    __slots__ = ("_exact", "_plainly_allowed", "_schemes", "_suffixes", "hosts")

    def __init__(self, schemes: tuple[str, ...], hosts: tuple[str, ...] | None) -> None:
        self._schemes = frozenset(schemes)
        self.hosts = hosts
        self._exact = frozenset(h for h in hosts or () if not h.startswith("."))
        self._suffixes = tuple(h for h in hosts or () if h.startswith("."))
        # Only schemes the full check can ever match (it lower-cases what it reads).
        plain_schemes = [s for s in self._schemes if is_scheme(s)]
        # Targets that plainly pass (an allowed scheme, then "//" and a host, no
        # control character anywhere) are accepted by one match; everything else
        # takes the full check below, which also says why a target is refused.
        self._plainly_allowed = (
            # Any ASCII case of the scheme, as the full check lower-cases it; no
            # Unicode case folding (U+017F, long s, is not "s" to it).
            re.compile(
                r"(?:{})://[^/?#\\\x00-\x1f\x7f]+(?:[/?#][^\x00-\x1f\x7f]*)?".format(
                    "|".join(map(re.escape, sorted(plain_schemes)))
                ),
                re.IGNORECASE | re.ASCII,
            ).fullmatch
            if hosts is None and plain_schemes
            else None
        )

    def check(self, url: str) -> None:
        """Raise `RedirectNotAllowed` unless ``url`` is an allowed target."""
        if self._plainly_allowed is not None and self._plainly_allowed(url):
            return
        self._check_fully(url)

    def _check_fully(self, url: str) -> None:
        if _CONTROL.search(url):
            raise RedirectNotAllowed("target holds control characters", url=url)
        match = _SCHEME_AND_AUTHORITY.match(url)
        if match is None:
            raise RedirectNotAllowed("target is not an absolute URL", url=url)
        scheme = match.group(1).lower()
        if scheme not in self._schemes:
            raise RedirectNotAllowed(f"scheme {scheme!r} is not allowed", url=url)
        authority = match.group(2)
        if scheme in _HIERARCHICAL or self.hosts is not None:
            if not authority or "\\" in authority:
                raise RedirectNotAllowed("target has no valid host", url=url)
            if self.hosts is not None and not self._host_allowed(authority):
                raise RedirectNotAllowed("target host is not allowed", url=url)

    def _host_allowed(self, authority: str) -> bool:
        host = authority.rpartition("@")[2]
        # "[v6]:port" keeps its brackets; "host:port" loses the port.
        host = host[: host.find("]") + 1] if host.startswith("[") else host.partition(":")[0]
        host = host.lower().rstrip(".")
        if host in self._exact:
            return True
        return any(host.endswith(s) or host == s[1:] for s in self._suffixes)
