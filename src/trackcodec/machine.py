"""Telling machine opens and clicks from human ones.

Mail privacy proxies fetch every image of a message when it is delivered,
image proxies fetch it on the reader's behalf, and security gateways follow
every link of a message before the reader sees it. Each of those requests
still reaches the tracking endpoint and is still recorded: `MachineClassifier`
only labels the event (``likely`` and ``machine_reason`` of a
`TrackingEvent`), it never drops one.

The rules, checked in this order (the first that matches gives the reason):

- ``apple-mail-privacy-protection``: an open whose user agent is exactly
  ``Mozilla/5.0``, or whose client address is in Apple's ``17.0.0.0/8``.
- ``gmail-image-proxy``: the user agent contains ``GoogleImageProxy``.
- ``yahoo-mail-proxy``: the user agent contains ``YahooMailProxy``.
- ``known-scanner``: the user agent names a link scanner, previewer, bot or
  HTTP library (`SCANNER_USER_AGENTS`, or ``bot`` as a word), or matches ``extra_user_agents``.
- ``head-request``: a ``HEAD`` request (mail clients and browsers ``GET``).
- ``no-user-agent``: no ``User-Agent`` header at all.
- ``too-soon-after-issue``: the token carries its issue time and the request
  came less than ``early_seconds`` after it.
- ``crawlerdetect``: only with ``use_crawlerdetect``, the ``crawlerdetect``
  package calls the user agent a crawler.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Final

from trackcodec._deps import require
from trackcodec.event import Likelihood
from trackcodec.result import TrackingKind

__all__ = ["MACHINE_REASONS", "SCANNER_USER_AGENTS", "MachineClassifier"]

MACHINE_REASONS: Final = (
    "apple-mail-privacy-protection",
    "gmail-image-proxy",
    "yahoo-mail-proxy",
    "known-scanner",
    "head-request",
    "no-user-agent",
    "too-soon-after-issue",
    "crawlerdetect",
)
"""Every ``machine_reason`` `MachineClassifier` can give, in the order it checks them."""

SCANNER_USER_AGENTS: Final = (
    # Security gateways and link checkers that say who they are.
    "barracuda",
    "bingpreview",
    "mimecast",
    "proofpoint",
    "google-safety",
    "existence discovery",  # Microsoft Office checking that a link exists
    # Link previewers of chat and social apps.
    "facebookexternalhit",
    "slack",
    "whatsapp",
    "telegrambot",
    "discordbot",
    "skypeuripreview",
    "linkedinbot",
    "twitterbot",
    # Crawlers, headless browsers, HTTP libraries and tools.
    "bot/",
    "crawler",
    "spider",
    "headlesschrome",
    "phantomjs",
    "python-requests",
    "python-urllib",
    "python-httpx",
    "aiohttp",
    "curl/",
    "wget/",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww-perl",
    "apache-httpclient",
    "node-fetch",
    "axios/",
    "scrapy",
)
"""Lower-case fragments of machine user agents (rule ``known-scanner``), matched as substrings.

A user agent with the word ``bot`` on its own (``\\bbot\\b``) is one too.
"""

# "bot" as a word; "Cubot" (a phone maker) is not one.
_BOT_WORD = re.compile(r"\bbot\b")


class MachineClassifier:
    """Labels a request as made by a person or by a machine, with the reason.

    Args:
        early_seconds: A request this many seconds after the token was
            issued, or sooner, is a machine's (scanners follow links while the
            message is being delivered). Only tokens that carry their issue
            time (``timestamp=True`` or a ``ttl``) can tell. ``0`` turns the
            rule off. Issue times are whole seconds (rounded down), so a
            request up to one second sooner than that may pass as human.
        extra_user_agents: More case-insensitive regular expressions of
            machine user agents (rule ``known-scanner``).
        use_crawlerdetect: Also ask the ``crawlerdetect`` package about user
            agents the rules above call human (``pip install
            'trackcodec[crawlerdetect]'``). Off by default: it costs about
            100 µs per new user agent, several times a whole tracking request.

    Raises:
        re.error: An ``extra_user_agents`` entry is not a regular expression.
        MissingDependencyError: ``use_crawlerdetect`` without the package.
    """

    __slots__ = ("_crawler", "_early", "_extra", "_tokens")

    def __init__(
        self,
        *,
        early_seconds: float = 2.0,
        extra_user_agents: Sequence[str] = (),
        use_crawlerdetect: bool = False,
    ) -> None:
        self._early = early_seconds
        self._tokens = SCANNER_USER_AGENTS
        self._extra = (
            re.compile("|".join(f"(?:{p})" for p in extra_user_agents), re.IGNORECASE).search
            if extra_user_agents
            else None
        )
        self._crawler: Callable[[str], bool] | None = None
        if use_crawlerdetect:
            module = require(
                "crawlerdetect",
                package="crawlerdetect",
                extra="crawlerdetect",
                feature="crawlerdetect",
            )
            detector = module.CrawlerDetect()
            self._crawler = detector.isCrawler

    def classify(
        self,
        *,
        kind: TrackingKind,
        method: str,
        user_agent: str | None,
        client_ip: str | None,
        issued_at: int | None,
        now: float,
    ) -> tuple[Likelihood, str | None]:
        """Return ``("human", None)`` or ``("machine", reason)``.

        Args:
            kind: ``"open"`` or ``"click"``.
            method: The HTTP method, upper case.
            user_agent: The ``User-Agent`` header, if any.
            client_ip: The resolved client address in canonical form (as
                `ClientIPResolver` gives it), if known.
            issued_at: When the token was minted (Unix seconds), if it says.
            now: When the request was received (Unix seconds).
        """
        reason = self._reason(kind, method, user_agent, client_ip, issued_at, now)
        return ("human", None) if reason is None else ("machine", reason)

    def _reason(
        self,
        kind: TrackingKind,
        method: str,
        user_agent: str | None,
        client_ip: str | None,
        issued_at: int | None,
        now: float,
    ) -> str | None:
        if kind == "open":
            if user_agent == "Mozilla/5.0":
                return "apple-mail-privacy-protection"
            # 17.0.0.0/8 is Apple's; canonical IPv4 text starts with "17." exactly then.
            if client_ip is not None and client_ip.startswith("17.") and ":" not in client_ip:
                return "apple-mail-privacy-protection"
        if user_agent:
            lowered = user_agent.lower()
            if "googleimageproxy" in lowered:
                return "gmail-image-proxy"
            if "yahoomailproxy" in lowered:
                return "yahoo-mail-proxy"
            if (
                user_agent == "Mozilla/5.0"
                or any(token in lowered for token in self._tokens)
                or _BOT_WORD.search(lowered)
                or (self._extra is not None and self._extra(user_agent))
            ):
                return "known-scanner"
        if method == "HEAD":
            return "head-request"
        if not user_agent:
            return "no-user-agent"
        if issued_at is not None and self._early > 0 and now - issued_at < self._early:
            return "too-soon-after-issue"
        if self._crawler is not None and self._crawler(user_agent):
            return "crawlerdetect"
        return None
