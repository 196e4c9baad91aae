"""Redirect policy: which click targets a tracker mints and follows.

A target outside the policy is refused twice: `Tracker.click_url` raises
``ValueError`` at minting time (no dead link is sent), and
`Tracker.parse_click` raises `RedirectNotAllowed` for a token minted
elsewhere (an older configuration, another service holding the key).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trackcodec import (
    ConfigurationError,
    InvalidToken,
    KeyRing,
    RedirectNotAllowed,
    RedirectPolicy,
    Tracker,
)

CLICK_BASE = "https://t.example.com/c/"

ALWAYS_REFUSED = [
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "https:evil.example",
    "https:/evil.example",
    "https:///evil.example",
    "http://",
    "//evil.example/",
    "/relative/path",
    "evil.example",
    "",
    " https://good.example/",
    "https://good.example/\r\nSet-Cookie: a=b",
    "https://good.example/\nLocation: https://evil.example/",
    "https://good.example/\x00",
    "https://good.example/\t",
    "https://good.example/\x7f",
    "https://evil.example\\@good.example/",
    "https://evil.example\\.good.example/",
    "https:\\\\evil.example",
]


def make_tracker(keys: KeyRing, **settings: Any) -> Tracker[dict[str, Any]]:
    return Tracker(base_click_tracking_url=CLICK_BASE, keys=keys, **settings)


def assert_refused(tracker: Tracker[dict[str, Any]], target: str) -> None:
    with pytest.raises(ValueError, match="cannot track") as minting:
        tracker.click_url(target)
    assert isinstance(minting.value.__cause__, RedirectNotAllowed)
    # A token carrying the target, authentic (minted with the same keys, bypassing the check).
    token = tracker.codec.encode({"url": target, "metadata": {"a": 1}})
    for url in (CLICK_BASE + token, "/c/" + token, token):
        with pytest.raises(RedirectNotAllowed) as parsing:
            tracker.parse_click(url)
        assert parsing.value.url == target
        assert isinstance(parsing.value, InvalidToken)
    with pytest.raises(RedirectNotAllowed):
        tracker.parse(token)
    with pytest.raises(RedirectNotAllowed):
        tracker.redirect_target(token)


def assert_allowed(tracker: Tracker[dict[str, Any]], target: str) -> None:
    assert tracker.parse_click(tracker.click_url(target)).tracked_url == target
    assert tracker.redirect_target(tracker.codec.encode({"url": target})) == target


@pytest.mark.parametrize("target", ALWAYS_REFUSED)
def test_refused_by_default_policy(fixed_keys: KeyRing, target: str) -> None:
    assert_refused(make_tracker(fixed_keys), target)


@pytest.mark.parametrize("target", ALWAYS_REFUSED)
def test_refused_with_host_allow_list(fixed_keys: KeyRing, target: str) -> None:
    assert_refused(make_tracker(fixed_keys, redirect_hosts=("good.example",)), target)


@pytest.mark.parametrize(
    "target",
    [
        "https://good.example/",
        "http://good.example",
        "HTTPS://GOOD.EXAMPLE/Path?q=1#frag",
        "https://any.host.example:8443/p?q=é",
        "https://bücher.example/straße?q=ü",
        "https://[2001:db8::1]/",
        "https://user:pw@good.example/",
        "https://good.example/a\\b",  # a backslash after the host is only a path character
        "https://good.example/?next=javascript:alert(1)",
    ],
)
def test_allowed_by_default_policy(fixed_keys: KeyRing, target: str) -> None:
    assert_allowed(make_tracker(fixed_keys), target)


def test_backslash_trick_with_allowed_host(fixed_keys: KeyRing) -> None:
    # Browsers send "https://evil.example\@good.example" to evil.example.
    tracker = make_tracker(fixed_keys, redirect_hosts=("good.example",))
    assert_refused(tracker, "https://evil.example\\@good.example")
    assert_refused(tracker, "https://evil.example\\@good.example/")
    assert_allowed(tracker, "https://good.example/")


@pytest.mark.parametrize(
    ("target", "allowed"),
    [
        ("https://good.example/", True),
        ("https://GOOD.example/", True),
        ("https://good.example./", True),
        ("https://good.example:8443/x", True),
        ("https://someone@good.example/", True),
        ("https://sub.good.example/", False),  # exact hosts do not include subdomains
        ("https://good.example.evil.net/", False),
        ("https://notgood.example/", False),
        ("https://good.example@evil.example/", False),  # userinfo is not the host
        ("https://evil.example?@good.example/", False),
        ("https://evil.example#@good.example/", False),
        ("https://evil.example/@good.example", False),
        ("https://example.com/", True),
        ("https://a.example.com/", True),
        ("https://a.b.example.com:443/", True),
        ("https://evilexample.com/", False),
        ("https://example.com.evil.net/", False),
        ("https://example.co/", False),
        ("https://[::1]/", False),
        ("https://[2001:db8::1]:8443/", True),
    ],
)
def test_host_allow_list(fixed_keys: KeyRing, target: str, allowed: bool) -> None:
    tracker = make_tracker(
        fixed_keys, redirect_hosts=("good.example", ".example.com", "[2001:db8::1]")
    )
    if allowed:
        assert_allowed(tracker, target)
    else:
        assert_refused(tracker, target)


def test_schemes(fixed_keys: KeyRing) -> None:
    https_only = make_tracker(fixed_keys, redirect_schemes=("HTTPS",))
    assert https_only.config.redirect_schemes == ("https",)
    assert_allowed(https_only, "https://good.example/")
    assert_refused(https_only, "http://good.example/")

    with_mailto = make_tracker(fixed_keys, redirect_schemes=("https", "mailto"))
    assert_allowed(with_mailto, "mailto:someone@example.com")
    assert_refused(with_mailto, "javascript:alert(1)")
    # With a host allow-list, a target must name an allowed host whatever its scheme.
    hosted = with_mailto.with_overrides(redirect_hosts=("good.example",))
    assert_refused(hosted, "mailto:someone@good.example")


def test_redirect_hosts_are_lowercased(fixed_keys: KeyRing) -> None:
    tracker = make_tracker(fixed_keys, redirect_hosts=("Good.Example",))
    assert tracker.config.redirect_hosts == ("good.example",)
    assert_allowed(tracker, "https://GOOD.example/")


def test_empty_host_allow_list_refuses_everything(fixed_keys: KeyRing) -> None:
    tracker = make_tracker(fixed_keys, redirect_hosts=())
    assert_refused(tracker, "https://good.example/")


def test_policy_change_applies_to_tokens_already_sent(fixed_keys: KeyRing) -> None:
    permissive = make_tracker(fixed_keys)
    url = permissive.click_url("https://old-partner.example/")
    strict = permissive.with_overrides(
        redirect_hosts=("shop.example.com",), fallback_url="https://shop.example.com/"
    )
    with pytest.raises(RedirectNotAllowed):
        strict.parse_click(url)
    assert strict.redirect_target(url) == "https://shop.example.com/"


def test_open_urls_are_not_checked(fixed_keys: KeyRing) -> None:
    tracker = Tracker(base_open_tracking_url="https://t.example.com/o/", keys=fixed_keys)
    result = tracker.parse_open(tracker.open_url({"link": "javascript:alert(1)"}))
    assert result.metadata == {"link": "javascript:alert(1)"}


def test_policy_object() -> None:
    policy = RedirectPolicy(("http", "https"), (".example.com",))
    policy.check("https://www.example.com/")
    with pytest.raises(RedirectNotAllowed) as info:
        policy.check("https://www.example.org/")
    assert info.value.url == "https://www.example.org/"
    RedirectPolicy(("https",), None).check("https://anything.example/")


def test_bad_policy_settings(fixed_keys: KeyRing) -> None:
    with pytest.raises(ConfigurationError) as info:
        make_tracker(fixed_keys, redirect_hosts="good.example,other.example")
    assert info.value.field == "redirect_hosts"


# The one-match fast path of `RedirectPolicy.check` may only accept what the full
# check accepts: tried on URL-like text built from the characters that matter.
_URL_PIECES = st.sampled_from(
    [
        "http",
        "https",
        "HTTPS",
        "hTtP",
        "ftp",
        "javascript",
        "http\u017f",
        ":",
        "//",
        "/",
        "\\",
        "@",
        "?",
        "#",
        "a.example",
        "[::1]",
        ":8080",
        "\x00",
        "\t",
        "\n",
        "\x7f",
        "%0a",
        " ",
        "é",
        "K",
        "my_app",
        "1http",
        "https ",
    ]
)


@settings(max_examples=500)
@given(pieces=st.lists(_URL_PIECES, max_size=12))
@pytest.mark.parametrize(
    "schemes",
    [
        ("http", "https"),
        ("https",),
        ("http", "https", "ftp"),
        # Schemes the full check can never match: the fast path must not either.
        ("HTTPS",),
        ("http", "https", "my_app"),
        ("1http",),
        ("",),
        ("https ",),
    ],
)
def test_fast_accept_never_accepts_what_the_full_check_refuses(
    schemes: tuple[str, ...], pieces: list[str]
) -> None:
    url = "".join(pieces)
    policy = RedirectPolicy(schemes, None)
    if policy._plainly_allowed is not None and policy._plainly_allowed(url):
        policy._check_fully(url)  # raises if the fast path was wrong


def test_fast_accept_takes_plain_targets_and_leaves_the_rest_to_the_full_check() -> None:
    policy = RedirectPolicy(("http", "https"), None)
    assert policy._plainly_allowed is not None
    for url in (
        "https://shop.example.com/p/42?utm_source=mail",
        "HTTP://a.example",
        "https://[::1]:8/",
    ):
        assert policy._plainly_allowed(url)
    for url in ("https://a.example\\@b.example/", "https://", "javascript:x", "https://a/\x00"):
        assert not policy._plainly_allowed(url)
    # With a host allow-list every target takes the full check.
    assert RedirectPolicy(("https",), ("a.example",))._plainly_allowed is None


@pytest.mark.parametrize(
    ("schemes", "url"),
    [
        (("HTTPS",), "https://evil.example/"),
        (("http", "https", "my_app"), "my_app://x"),
        (("1http",), "1http://x"),
        (("",), "://evil.example"),
        (("https ",), "https ://x"),
    ],
)
def test_schemes_the_full_check_cannot_match_are_not_fast_accepted(
    schemes: tuple[str, ...], url: str
) -> None:
    with pytest.raises(RedirectNotAllowed):
        RedirectPolicy(schemes, None).check(url)
