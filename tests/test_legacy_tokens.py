"""`Tracker` reading links minted by pytracking 0.2.x (``accept_legacy``).

The URLs here are minted by the real ``pytracking`` package. Property-based
checks over generated metadata and URLs are in ``test_compat_pytracking.py``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import pytracking
from cryptography.fernet import Fernet

from trackcodec import (
    BadSignature,
    ConfigurationError,
    InvalidToken,
    KeyRing,
    MalformedToken,
    PayloadError,
    RedirectNotAllowed,
    TokenExpired,
    Tracker,
    TrackingConfig,
    legacy,
)

OPEN_BASE = "https://t.example.com/o/"
CLICK_BASE = "https://t.example.com/c/"
TARGET = "https://shop.example.com/p/42?utm_source=mail"
META = {"customer_id": 123456, "campaign": "fall-2026", "prénom": "Zoé", "tags": ["a", {"b": 1}]}
HOOK = "https://hooks.example.com/track"
EVIL_HOOK = "http://169.254.169.254/latest/meta-data/"
FERNET_KEY = b"yMjbeGJEiKCqeOGYz6p4M4jXjI9pZ8_Kl6Ip3ynhxbs="
OTHER_FERNET_KEY = b"Vh0ye_VDWgkrT1N0JByy-XU-FKAyflJkeBQ8qzsXiNI="
T0 = 1_789_459_200


def pt_config(**settings: Any) -> pytracking.Configuration:
    return pytracking.Configuration(
        base_open_tracking_url=OPEN_BASE, base_click_tracking_url=CLICK_BASE, **settings
    )


def make_tracker(keys: KeyRing, **settings: Any) -> Tracker[dict[str, Any]]:
    return Tracker(
        base_open_tracking_url=OPEN_BASE,
        base_click_tracking_url=CLICK_BASE,
        keys=keys,
        **settings,
    )


def fernet_tracker(keys: KeyRing, **settings: Any) -> Tracker[dict[str, Any]]:
    return make_tracker(
        keys, accept_legacy="fernet", legacy_fernet_keys=(FERNET_KEY.decode(),), **settings
    )


# -- plain legacy tokens ---------------------------------------------------------------


def test_plain_refused_by_default(fixed_keys: KeyRing) -> None:
    url = pytracking.get_click_tracking_url(TARGET, META, configuration=pt_config())
    assert url[len(CLICK_BASE) :].startswith(legacy.PLAIN_PREFIX)
    tracker = make_tracker(fixed_keys)
    assert tracker.config.accept_legacy == "none"
    for parse in (tracker.parse_click, tracker.parse, tracker.redirect_target):
        with pytest.raises(InvalidToken):
            parse(url)
    with pytest.raises(InvalidToken):
        fernet_tracker(fixed_keys).parse_click(url)


def test_plain_accepted_when_asked(fixed_keys: KeyRing) -> None:
    tracker = make_tracker(fixed_keys, accept_legacy="plain")
    click_url = pytracking.get_click_tracking_url(TARGET, META, configuration=pt_config())
    open_url = pytracking.get_open_tracking_url(META, configuration=pt_config())
    click = tracker.parse_click(click_url, {"ua": "x"}, now=T0)
    assert click.kind == "click"
    assert click.tracked_url == TARGET
    assert click.metadata == META
    assert click.request_data == {"ua": "x"}
    assert click.timestamp == T0
    assert (click.serializer, click.cipher, click.key_id) == ("json", "plain", None)
    assert click.authenticated is False
    assert click.legacy is True
    assert click.issued_at is None
    opened = tracker.parse(open_url)
    assert (opened.kind, opened.metadata, opened.legacy) == ("open", META, True)
    # Path, bare token, and new tokens side by side.
    token = click_url[len(CLICK_BASE) :]
    assert tracker.parse_click("/c/" + token).tracked_url == TARGET
    assert tracker.parse_click(token + "/").tracked_url == TARGET
    assert tracker.parse_click(tracker.click_url(TARGET)).legacy is False


def test_plain_open_url_without_metadata(fixed_keys: KeyRing) -> None:
    # pytracking encodes an empty payload as "e30=" (base64 of "{}"), not "eyJ...".
    url = pytracking.get_open_tracking_url(configuration=pt_config())
    assert url == OPEN_BASE + "e30="
    tracker = make_tracker(fixed_keys, accept_legacy="plain", default_metadata={"app": "shop"})
    for form in (url, "/o/e30=", "e30=", "e30"):
        result = tracker.parse_open(form)
        assert (result.kind, result.metadata, result.legacy) == ("open", {"app": "shop"}, True)
    assert tracker.parse(url).kind == "open"
    with pytest.raises(InvalidToken):
        make_tracker(fixed_keys).parse_open(url)


def test_plain_webhook_is_never_used(fixed_keys: KeyRing) -> None:
    """A plain token is forgeable: its webhook would be a server-side request forgery."""
    url = pytracking.get_click_tracking_url(
        TARGET, META, configuration=pt_config(webhook_url=EVIL_HOOK, include_webhook_url=True)
    )
    assert legacy.decode_plain(url[len(CLICK_BASE) :])["webhook"] == EVIL_HOOK
    tracker = make_tracker(
        fixed_keys,
        accept_legacy="plain",
        webhook_url=HOOK,
        include_webhook_url=True,
        allowed_webhook_urls=(EVIL_HOOK,),  # even when, wrongly, allowed
    )
    assert tracker.parse_click(url).webhook_url == HOOK
    assert make_tracker(fixed_keys, accept_legacy="plain").parse_click(url).webhook_url is None


def test_forged_plain_click_is_held_by_redirect_policy(fixed_keys: KeyRing) -> None:
    forged = CLICK_BASE + legacy.dumps_plain({"url": "https://evil.example/phish"})
    tracker = make_tracker(fixed_keys, accept_legacy="plain", redirect_hosts=("shop.example.com",))
    with pytest.raises(RedirectNotAllowed):
        tracker.parse_click(forged)
    script = CLICK_BASE + legacy.dumps_plain({"url": "javascript:alert(1)"})
    with pytest.raises(RedirectNotAllowed):
        make_tracker(fixed_keys, accept_legacy="plain").parse_click(script)


def test_plain_refused_under_ttl(fixed_keys: KeyRing) -> None:
    url = pytracking.get_click_tracking_url(TARGET, META, configuration=pt_config())
    with pytest.raises(TokenExpired):
        make_tracker(fixed_keys, accept_legacy="plain", ttl=10**9).parse_click(url)


@pytest.mark.parametrize(
    "token",
    [
        "eyJ!!!",
        "eyJ" + "A" * 5,
        legacy.PLAIN_PREFIX + "ééé",
        base64.urlsafe_b64encode(b'{"url": ').decode(),
        base64.urlsafe_b64encode(b'{"a\xff": 1}').decode(),
    ],
)
def test_malformed_plain(fixed_keys: KeyRing, token: str) -> None:
    with pytest.raises((MalformedToken, PayloadError)):
        make_tracker(fixed_keys, accept_legacy="plain").parse(token)


def test_plain_non_object_payloads(fixed_keys: KeyRing) -> None:
    tracker = make_tracker(fixed_keys, accept_legacy="plain")
    # json.dumps of a list starts with "[", so its token does not start with "eyJ".
    with pytest.raises(InvalidToken):
        tracker.parse(base64.urlsafe_b64encode(b"[1, 2]").decode())
    with pytest.raises(PayloadError):
        tracker.parse(legacy.dumps_plain({"url": ["not", "a", "string"]}))


# -- Fernet legacy tokens --------------------------------------------------------------


def test_fernet_accepted_with_the_right_key(fixed_keys: KeyRing) -> None:
    config = pt_config(
        encryption_bytestring_key=FERNET_KEY, webhook_url=HOOK, include_webhook_url=True
    )
    click_url = pytracking.get_click_tracking_url(TARGET, META, configuration=config)
    open_url = pytracking.get_open_tracking_url(META, configuration=config)
    assert click_url[len(CLICK_BASE) :].startswith(legacy.FERNET_PREFIX)
    tracker = fernet_tracker(fixed_keys, webhook_url=HOOK)
    click = tracker.parse_click(click_url)
    assert (click.tracked_url, click.metadata) == (TARGET, META)
    assert (click.serializer, click.cipher, click.key_id) == ("json", "fernet", None)
    assert click.authenticated is True
    assert click.legacy is True
    assert click.webhook_url == HOOK
    assert click.issued_at is not None
    assert abs(click.issued_at - click.timestamp) < 3600
    opened = tracker.parse(open_url)
    assert (opened.kind, opened.metadata) == ("open", META)


def test_fernet_refused_without_fernet_mode(fixed_keys: KeyRing) -> None:
    url = pytracking.get_click_tracking_url(
        TARGET, META, configuration=pt_config(encryption_bytestring_key=FERNET_KEY)
    )
    for mode in ("none", "plain"):
        with pytest.raises(InvalidToken):
            make_tracker(fixed_keys, accept_legacy=mode).parse_click(url)


def test_fernet_refused_with_another_key(fixed_keys: KeyRing) -> None:
    url = pytracking.get_click_tracking_url(
        TARGET, META, configuration=pt_config(encryption_bytestring_key=FERNET_KEY)
    )
    wrong = make_tracker(
        fixed_keys, accept_legacy="fernet", legacy_fernet_keys=(OTHER_FERNET_KEY.decode(),)
    )
    with pytest.raises(BadSignature):
        wrong.parse_click(url)
    # Several legacy keys (pytracking key rotation by hand): any of them opens.
    both = wrong.with_overrides(legacy_fernet_keys=(OTHER_FERNET_KEY.decode(), FERNET_KEY))
    assert both.parse_click(url).tracked_url == TARGET


def test_fernet_webhook_only_from_allow_list(fixed_keys: KeyRing) -> None:
    """Fernet tokens are authenticated, so their webhook is used if allowed."""
    config = pt_config(
        encryption_bytestring_key=FERNET_KEY, webhook_url=EVIL_HOOK, include_webhook_url=True
    )
    url = pytracking.get_click_tracking_url(TARGET, META, configuration=config)
    assert fernet_tracker(fixed_keys, webhook_url=HOOK).parse_click(url).webhook_url == HOOK
    allowing = fernet_tracker(
        fixed_keys,
        webhook_url=HOOK,
        include_webhook_url=True,
        allowed_webhook_urls=(EVIL_HOOK,),
    )
    assert allowing.parse_click(url).webhook_url == EVIL_HOOK


def test_tampered_fernet_is_refused(fixed_keys: KeyRing) -> None:
    url = pytracking.get_click_tracking_url(
        TARGET, META, configuration=pt_config(encryption_bytestring_key=FERNET_KEY)
    )
    token = url[len(CLICK_BASE) :]
    raw = base64.urlsafe_b64decode(token)
    tracker = fernet_tracker(fixed_keys)
    for index in range(0, len(raw), 7):
        forged = bytearray(raw)
        forged[index] ^= 0x04
        with pytest.raises(InvalidToken):
            tracker.parse_click(base64.urlsafe_b64encode(bytes(forged)).decode())


def test_fernet_ttl(fixed_keys: KeyRing) -> None:
    plaintext = json.dumps({"url": TARGET, "metadata": META}).encode()
    token = Fernet(FERNET_KEY).encrypt_at_time(plaintext, T0).decode()
    tracker = fernet_tracker(fixed_keys, ttl=3600)
    result = tracker.parse_click(token, now=T0 + 3600)
    assert result.issued_at == T0
    with pytest.raises(TokenExpired):
        tracker.parse_click(token, now=T0 + 3601)
    # No ttl: a Fernet token never expires.
    assert fernet_tracker(fixed_keys).parse_click(token, now=T0 + 10**8).tracked_url == TARGET


def test_fernet_mode_needs_keys() -> None:
    with pytest.raises(ConfigurationError) as info:
        TrackingConfig(accept_legacy="fernet")
    assert info.value.field == "legacy_fernet_keys"
    with pytest.raises(ConfigurationError) as info:
        TrackingConfig(accept_legacy="fernet", legacy_fernet_keys=("too-short",))
    assert info.value.field == "legacy_fernet_keys"


def test_legacy_and_new_tokens_share_an_endpoint(fixed_keys: KeyRing) -> None:
    """Step 2 of the migration: old links keep working, new links are authenticated."""
    tracker = fernet_tracker(fixed_keys)
    old = pytracking.get_click_tracking_url(
        TARGET, META, configuration=pt_config(encryption_bytestring_key=FERNET_KEY)
    )
    new = tracker.click_url(TARGET, META)
    assert tracker.redirect_target(old) == TARGET
    assert tracker.redirect_target(new) == TARGET
    assert tracker.parse(old).legacy is True
    assert tracker.parse(new).legacy is False
