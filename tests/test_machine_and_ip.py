"""Machine-open classification and client addresses behind trusted proxies."""

from __future__ import annotations

from typing import Any

import pytest

from trackcodec.client_ip import ClientIPResolver, normalize_ip
from trackcodec.machine import MACHINE_REASONS, MachineClassifier

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120"
)
IPHONE_MAIL = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Mobile/15E148"
)
OUTLOOK = "Mozilla/4.0 (compatible; ms-office; MSOffice 16)"
GMAIL = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
YAHOO = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"
NOW = 1_800_000_000.0

BASE: dict[str, Any] = {
    "kind": "open",
    "method": "GET",
    "user_agent": CHROME,
    "client_ip": "198.51.100.20",
    "issued_at": int(NOW) - 3600,
    "now": NOW,
}

CASES: list[tuple[str, dict[str, Any], str | None]] = [
    ("desktop browser", {}, None),
    ("iPhone Mail", {"user_agent": IPHONE_MAIL}, None),
    ("Outlook", {"user_agent": OUTLOOK}, None),
    ("Cubot phone is no bot", {"user_agent": "Mozilla/5.0 (Linux; Android 9; CUBOT X30)"}, None),
    ("no issue time", {"issued_at": None, "now": NOW}, None),
    ("MPP user agent", {"user_agent": "Mozilla/5.0"}, "apple-mail-privacy-protection"),
    ("MPP address", {"client_ip": "17.58.63.1"}, "apple-mail-privacy-protection"),
    ("Apple address click is not MPP", {"kind": "click", "client_ip": "17.58.63.1"}, None),
    ("bare Mozilla click", {"kind": "click", "user_agent": "Mozilla/5.0"}, "known-scanner"),
    ("Gmail", {"user_agent": GMAIL}, "gmail-image-proxy"),
    ("Yahoo", {"user_agent": YAHOO}, "yahoo-mail-proxy"),
    ("Barracuda", {"kind": "click", "user_agent": "Barracuda Sentinel (EE)"}, "known-scanner"),
    ("BingPreview", {"user_agent": "Mozilla/5.0 BingPreview/1.0b"}, "known-scanner"),
    ("curl", {"user_agent": "curl/8.4.0"}, "known-scanner"),
    ("python-requests", {"user_agent": "python-requests/2.31"}, "known-scanner"),
    (
        "Googlebot",
        {"user_agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"},
        "known-scanner",
    ),
    ("headless", {"user_agent": "Mozilla/5.0 HeadlessChrome/120.0"}, "known-scanner"),
    ("HEAD", {"method": "HEAD"}, "head-request"),
    ("no user agent", {"user_agent": None}, "no-user-agent"),
    ("empty user agent", {"user_agent": ""}, "no-user-agent"),
    ("click 1 s after issue", {"kind": "click", "issued_at": int(NOW) - 1}, "too-soon-after-issue"),
    ("open at issue", {"issued_at": int(NOW)}, "too-soon-after-issue"),
    ("click 2 s after issue", {"kind": "click", "issued_at": int(NOW) - 2}, None),
]


@pytest.mark.parametrize(("settings", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rules(settings: dict[str, Any], reason: str | None) -> None:
    likely, why = MachineClassifier().classify(**{**BASE, **settings})
    assert why == reason
    assert likely == ("human" if reason is None else "machine")


def test_every_documented_reason_is_reachable_or_optional() -> None:
    reached = {reason for _, _, reason in CASES if reason}
    assert reached | {"crawlerdetect"} == set(MACHINE_REASONS)


def test_early_window_can_be_widened_or_turned_off() -> None:
    soon = {**BASE, "kind": "click", "issued_at": int(NOW) - 5}
    assert MachineClassifier().classify(**soon)[0] == "human"
    assert MachineClassifier(early_seconds=10).classify(**soon)[1] == "too-soon-after-issue"
    at_issue = {**BASE, "issued_at": int(NOW)}
    assert MachineClassifier(early_seconds=0).classify(**at_issue)[0] == "human"


def test_extra_user_agents() -> None:
    classifier = MachineClassifier(extra_user_agents=[r"acme-gateway/\d"])
    assert classifier.classify(**{**BASE, "user_agent": "ACME-Gateway/3"})[1] == "known-scanner"
    assert classifier.classify(**BASE)[0] == "human"


def test_crawlerdetect_is_asked_only_when_enabled() -> None:
    pytest.importorskip("crawlerdetect")
    # A crawler the built-in list does not name.
    agent = "Mozilla/5.0 (compatible; Yahoo Ad monitoring; https://help.yahoo.com/kb/yahoo-ad-monitoring-SLN24857.html)"
    assert MachineClassifier().classify(**{**BASE, "user_agent": agent})[0] == "human"
    detected = MachineClassifier(use_crawlerdetect=True).classify(**{**BASE, "user_agent": agent})
    assert detected == ("machine", "crawlerdetect")


# -- client addresses --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("2001:DB8::1", "2001:db8::1"),
        ("unix:/run/app.sock", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_ip(text: str | None, expected: str | None) -> None:
    assert normalize_ip(text) == expected


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    resolver = ClientIPResolver()
    headers = {"x-forwarded-for": "198.51.100.1", "x-real-ip": "198.51.100.2"}
    assert resolver.resolve(headers, "203.0.113.9") == "203.0.113.9"
    assert resolver.resolve(headers, None) is None


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # what the client wrote is skipped
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
        (2, "198.51.100.1", "10.0.0.1"),  # chain too short: the peer
        (1, "", "10.0.0.1"),
        (1, "garbage, 198.51.100.1", "198.51.100.1"),
        (1, "for=198.51.100.7;proto=https", "198.51.100.7"),
    ],
)
def test_trusted_proxy_count(count: int, forwarded: str, expected: str) -> None:
    resolver = ClientIPResolver(trusted_proxy_count=count)
    assert resolver.resolve({"x-forwarded-for": forwarded}, "10.0.0.1") == expected


def test_trusted_proxy_list() -> None:
    resolver = ClientIPResolver(trusted_proxies=["10.0.0.0/8"])
    headers = {"x-forwarded-for": "6.6.6.6, 198.51.100.1"}
    assert resolver.resolve(headers, "10.1.2.3") == "198.51.100.1"
    # A client connecting directly cannot choose its address.
    assert resolver.resolve(headers, "203.0.113.9") == "203.0.113.9"
    two = ClientIPResolver(trusted_proxies=["192.0.2.0/24", "10.0.0.1"])
    chain = {"x-forwarded-for": "198.51.100.1, 192.0.2.50"}
    assert two.resolve(chain, "10.0.0.1") == "198.51.100.1"
    assert two.resolve(chain, "10.0.0.2") == "10.0.0.2"
    assert two.resolve({"x-forwarded-for": "198.51.100.1, 6.6.6.6"}, "10.0.0.1") == "10.0.0.1"


def test_other_forwarded_header() -> None:
    resolver = ClientIPResolver(trusted_proxy_count=1, forwarded_header="CF-Connecting-IP")
    headers = {"cf-connecting-ip": "198.51.100.1", "x-forwarded-for": "6.6.6.6"}
    assert resolver.resolve(headers, "10.0.0.1") == "198.51.100.1"


def test_invalid_proxy_settings() -> None:
    with pytest.raises(ValueError, match="not both"):
        ClientIPResolver(trusted_proxy_count=1, trusted_proxies=["10.0.0.1"])
    with pytest.raises(ValueError, match="negative"):
        ClientIPResolver(trusted_proxy_count=-1)
    with pytest.raises(ValueError, match="proxy_list"):
        ClientIPResolver(trusted_proxies=["not an address"])
