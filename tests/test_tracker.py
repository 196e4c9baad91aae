"""`Tracker`: building open and click URLs and parsing them back.

Security properties (forgery, redirect policy, legacy tokens) are in
``test_tracker_security.py``, ``test_redirect_policy.py`` and
``test_legacy_tokens.py``.
"""

from __future__ import annotations

import json
from itertools import product
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from trackcodec import (
    ConfigurationError,
    InvalidToken,
    KeyRing,
    PayloadError,
    TokenExpired,
    Tracker,
    TrackingConfig,
    TrackingResult,
    legacy,
)
from trackcodec.compat import pytracking as compat

OPEN_BASE = "https://t.example.com/o/"
CLICK_BASE = "https://t.example.com/c/"
TARGET = "https://shop.example.com/p/42?utm_source=mail&utm_medium=email"
META = {"customer_id": 123456, "campaign": "fall-2026", "é": ["ü", 1.5, None]}
HOOK = "https://hooks.example.com/track"
OTHER_HOOK = "https://hooks.example.com/other"

SERIALIZERS = ("json", "msgpack", "schema")
COMPRESSORS = ("none", "deflate", "deflate-dict")
CIPHERS = ("aes-siv", "xchacha20", "secretbox", "fernet", "hmac", "plain")


class Meta(BaseModel):
    customer_id: int
    campaign: str | None = None
    variant: str | None = None


@pytest.fixture(scope="module")
def config(fixed_keys: KeyRing) -> TrackingConfig:
    return TrackingConfig(
        base_open_tracking_url=OPEN_BASE, base_click_tracking_url=CLICK_BASE, keys=fixed_keys
    )


@pytest.fixture(scope="module")
def tracker(config: TrackingConfig) -> Tracker[dict[str, Any]]:
    return Tracker(config)


def token_of(url: str) -> str:
    """The token of a path-placed tracking URL."""
    return url.rstrip("/").rpartition("/")[2]


def path_of(url: str) -> str:
    """The path of a tracking URL, as a web framework hands it over."""
    return "/" + url.split("/", 3)[3]


# -- round trips ---------------------------------------------------------------------


def test_click_round_trip(tracker: Tracker[dict[str, Any]]) -> None:
    url = tracker.click_url(TARGET, META)
    assert url.startswith(CLICK_BASE)
    result = tracker.parse_click(url, {"user_agent": "Mail/1.0"})
    assert result.kind == "click"
    assert result.tracked_url == TARGET
    assert result.metadata == META
    assert result.request_data == {"user_agent": "Mail/1.0"}


def test_open_round_trip(tracker: Tracker[dict[str, Any]]) -> None:
    url = tracker.open_url(META)
    assert url.startswith(OPEN_BASE)
    result = tracker.parse_open(url)
    assert result.kind == "open"
    assert result.tracked_url is None
    assert result.metadata == META


def test_no_metadata(tracker: Tracker[dict[str, Any]]) -> None:
    assert tracker.parse_open(tracker.open_url()).metadata == {}
    assert tracker.parse_click(tracker.click_url(TARGET)).metadata == {}
    assert tracker.codec.decode(token_of(tracker.open_url())) == {}


@pytest.mark.parametrize("form", ["url", "path", "path-with-slash", "token", "slash-token"])
def test_accepted_url_forms(tracker: Tracker[dict[str, Any]], form: str) -> None:
    click = tracker.click_url(TARGET, META)
    opened = tracker.open_url(META)

    def shape(url: str) -> str:
        return {
            "url": url,
            "path": path_of(url),
            "path-with-slash": path_of(url) + "/",
            "token": token_of(url),
            "slash-token": "/" + token_of(url),
        }[form]

    assert path_of(click).startswith("/c/")
    assert tracker.parse_click(shape(click)).tracked_url == TARGET
    assert tracker.parse_open(shape(opened)).metadata == META
    assert tracker.parse(shape(click)).kind == "click"
    assert tracker.parse(shape(opened)).kind == "open"


def test_query_and_fragment_added_by_clients_are_ignored(tracker: Tracker[dict[str, Any]]) -> None:
    url = tracker.click_url(TARGET, META)
    assert tracker.parse_click(url + "?utm_source=x#top").tracked_url == TARGET
    assert tracker.parse_click(url + "/?a=1").tracked_url == TARGET


def test_parse_tells_open_from_click_by_longest_base(fixed_keys: KeyRing) -> None:
    # The click base is a prefix of the open base: the longer base decides.
    tracker = Tracker(
        base_click_tracking_url="https://t.example.com/",
        base_open_tracking_url="https://t.example.com/o/",
        keys=fixed_keys,
    )
    opened = tracker.open_url({"a": 1})
    click = tracker.click_url(TARGET)
    assert tracker.parse(opened).kind == "open"
    assert tracker.parse(path_of(opened)).kind == "open"
    assert tracker.parse(click).kind == "click"
    assert tracker.parse(path_of(click)).kind == "click"


def test_parse_with_one_base_for_both_kinds(fixed_keys: KeyRing) -> None:
    tracker = Tracker(
        base_click_tracking_url="https://t.example.com/t/",
        base_open_tracking_url="https://t.example.com/t/",
        keys=fixed_keys,
    )
    assert tracker.parse(tracker.open_url({"a": 1})).is_open_tracking
    assert tracker.parse(tracker.click_url(TARGET)).is_click_tracking


def test_base_url_without_trailing_slash_gets_one(fixed_keys: KeyRing) -> None:
    tracker = Tracker(base_click_tracking_url="https://t.example.com/c", keys=fixed_keys)
    url = tracker.click_url(TARGET)
    assert url.startswith("https://t.example.com/c/")
    assert tracker.parse_click(url).tracked_url == TARGET
    assert tracker.parse_click(path_of(url)).tracked_url == TARGET


def test_missing_base_url_is_a_configuration_error(fixed_keys: KeyRing) -> None:
    tracker = Tracker(keys=fixed_keys)
    with pytest.raises(ConfigurationError) as info:
        tracker.open_url()
    assert info.value.field == "base_open_tracking_url"
    with pytest.raises(ConfigurationError) as info:
        tracker.click_url(TARGET)
    assert info.value.field == "base_click_tracking_url"
    # Bare tokens still parse without base URLs.
    minted = Tracker(base_click_tracking_url=CLICK_BASE, keys=fixed_keys).click_url(TARGET)
    assert tracker.parse_click(token_of(minted)).tracked_url == TARGET
    assert tracker.parse(token_of(minted)).kind == "click"


def test_metadata_must_be_a_mapping_or_model(tracker: Tracker[dict[str, Any]]) -> None:
    with pytest.raises(TypeError):
        tracker.open_url([("a", 1)])  # type: ignore[arg-type]


def test_unserializable_metadata_is_a_type_error(tracker: Tracker[dict[str, Any]]) -> None:
    with pytest.raises(TypeError):
        tracker.open_url({"when": object()})


# -- every codec setting by name -------------------------------------------------------


@pytest.mark.parametrize(
    ("serializer", "compressor", "cipher"),
    list(product(SERIALIZERS, COMPRESSORS, CIPHERS)),
    ids=lambda v: str(v),
)
def test_every_codec_setting(
    fixed_keys: KeyRing, serializer: str, compressor: str, cipher: str
) -> None:
    tracker = Tracker(
        base_open_tracking_url=OPEN_BASE,
        base_click_tracking_url=CLICK_BASE,
        keys=fixed_keys,
        serializer=serializer,
        compressor=compressor,
        cipher=cipher,
    )
    meta = {"customer_id": 123456, "campaign": "fall-2026 " * 4, "ünï": {"cödé": [1, 2]}}
    click = tracker.parse_click(tracker.click_url(TARGET, meta))
    assert (click.tracked_url, click.metadata) == (TARGET, meta)
    assert click.serializer == serializer
    assert click.cipher == cipher
    assert click.key_id == fixed_keys.primary_id
    assert click.authenticated is (cipher != "plain")
    assert click.legacy is False
    opened = tracker.parse_open(tracker.open_url(meta))
    assert (opened.kind, opened.metadata) == ("open", meta)


@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_metadata_model(fixed_keys: KeyRing, serializer: str) -> None:
    tracker = Tracker(
        TrackingConfig(
            base_open_tracking_url=OPEN_BASE,
            base_click_tracking_url=CLICK_BASE,
            keys=fixed_keys,
            serializer=serializer,
        ),
        metadata_model=Meta,
    )
    result = tracker.parse_click(tracker.click_url(TARGET, Meta(customer_id=7, campaign="é")))
    assert isinstance(result, TrackingResult)
    assert isinstance(result.metadata, Meta)
    assert result.metadata == Meta(customer_id=7, campaign="é")
    # A mapping is accepted too, and validated on the way back.
    opened = tracker.parse_open(tracker.open_url({"customer_id": "8"}))
    assert opened.metadata == Meta(customer_id=8)
    assert opened.to_json_dict()["metadata"] == {
        "customer_id": 8,
        "campaign": None,
        "variant": None,
    }


def test_schema_serializer_is_shorter_than_msgpack(fixed_keys: KeyRing) -> None:
    def tracker(serializer: str) -> Tracker[Meta]:
        return Tracker(
            TrackingConfig(
                base_click_tracking_url=CLICK_BASE, keys=fixed_keys, serializer=serializer
            ),
            metadata_model=Meta,
        )

    meta = Meta(customer_id=123456, campaign="fall-2026")
    assert len(tracker("schema").click_url(TARGET, meta)) < len(
        tracker("msgpack").click_url(TARGET, meta)
    )


def test_metadata_that_does_not_validate_is_a_payload_error(
    tracker: Tracker[dict[str, Any]], config: TrackingConfig
) -> None:
    typed = Tracker(config, metadata_model=Meta)
    url = tracker.click_url(TARGET, {"customer_id": "not a number"})
    with pytest.raises(PayloadError):
        typed.parse_click(url)


def test_metadata_model_must_be_a_pydantic_model(config: TrackingConfig) -> None:
    with pytest.raises(TypeError):
        Tracker(config, metadata_model=dict)  # type: ignore[call-overload]


def test_config_or_settings_not_both(config: TrackingConfig) -> None:
    with pytest.raises(TypeError):
        Tracker(config, append_slash=True)  # type: ignore[call-overload]


def test_settings_as_keywords(fixed_keys: KeyRing) -> None:
    tracker = Tracker(base_click_tracking_url=CLICK_BASE, keys=fixed_keys.to_string())
    assert tracker.config.keys == fixed_keys
    assert tracker.parse_click(tracker.click_url(TARGET)).tracked_url == TARGET


def test_authenticating_cipher_needs_keys() -> None:
    with pytest.raises(ConfigurationError) as info:
        Tracker(base_click_tracking_url=CLICK_BASE)
    assert info.value.field == "keys"


def test_tokens_of_other_settings_still_decode(fixed_keys: KeyRing) -> None:
    """Changing settings never breaks links already sent (same key ring)."""
    old = Tracker(
        base_click_tracking_url=CLICK_BASE,
        keys=fixed_keys,
        serializer="json",
        compressor="none",
        cipher="fernet",
    )
    new = Tracker(base_click_tracking_url=CLICK_BASE, keys=fixed_keys)
    result = new.parse_click(old.click_url(TARGET, META))
    assert (result.tracked_url, result.metadata) == (TARGET, META)
    assert (result.serializer, result.cipher) == ("json", "fernet")


# -- URL shape: append_slash and token_param -----------------------------------------


def test_append_slash(fixed_keys: KeyRing) -> None:
    tracker = Tracker(
        base_open_tracking_url=OPEN_BASE,
        base_click_tracking_url=CLICK_BASE,
        keys=fixed_keys,
        append_slash=True,
    )
    click = tracker.click_url(TARGET, META)
    opened = tracker.open_url(META)
    assert click.endswith("/")
    assert opened.endswith("/")
    assert "/" not in token_of(click)
    for url in (click, path_of(click), token_of(click) + "/", click.rstrip("/")):
        assert tracker.parse_click(url).tracked_url == TARGET
    assert tracker.parse(opened).metadata == META
    # A tracker without append_slash reads them too (and the other way round).
    plain = Tracker(base_click_tracking_url=CLICK_BASE, keys=fixed_keys)
    assert plain.parse_click(click).tracked_url == TARGET
    assert tracker.parse_click(plain.click_url(TARGET)).tracked_url == TARGET


@pytest.mark.parametrize(
    ("base", "expected_prefix"),
    [
        ("https://t.example.com/track", "https://t.example.com/track?t="),
        ("https://t.example.com/track?src=mail", "https://t.example.com/track?src=mail&t="),
    ],
)
@pytest.mark.parametrize("append_slash", [False, True])
def test_token_param(
    fixed_keys: KeyRing, base: str, expected_prefix: str, append_slash: bool
) -> None:
    tracker = Tracker(
        base_click_tracking_url=base,
        base_open_tracking_url=base.replace("track", "pixel"),
        keys=fixed_keys,
        token_param="t",
        append_slash=append_slash,
    )
    url = tracker.click_url(TARGET, META)
    assert url.startswith(expected_prefix)
    token = url[len(expected_prefix) :].rstrip("/")
    assert token == tracker.codec.encode({"url": TARGET, "metadata": META})
    for form in (url, path_of(url), token, url + "&utm_source=x"):
        result = tracker.parse_click(form)
        assert (result.tracked_url, result.metadata) == (TARGET, META)
    assert tracker.parse(url).kind == "click"
    opened = tracker.open_url(META)
    assert tracker.parse_open(opened).metadata == META
    assert tracker.parse(opened).kind == "open"


def test_token_param_missing_from_query(fixed_keys: KeyRing) -> None:
    tracker = Tracker(base_click_tracking_url=CLICK_BASE, keys=fixed_keys, token_param="t")
    with pytest.raises(InvalidToken):
        tracker.parse_click("https://t.example.com/c/?other=1")


# -- overrides -------------------------------------------------------------------------


def test_per_call_overrides(fixed_keys: KeyRing) -> None:
    tracker = Tracker(
        base_click_tracking_url=CLICK_BASE,
        base_open_tracking_url=OPEN_BASE,
        keys=fixed_keys,
        webhook_url=HOOK,
        allowed_webhook_urls=(OTHER_HOOK,),
    )
    plain = tracker.click_url(TARGET, META)
    with_hook = tracker.click_url(TARGET, META, include_webhook_url=True)
    assert tracker.codec.decode(token_of(plain)) == {"url": TARGET, "metadata": META}
    assert tracker.codec.decode(token_of(with_hook)) == {
        "url": TARGET,
        "metadata": META,
        "webhook": HOOK,
    }
    other = tracker.click_url(TARGET, META, include_webhook_url=True, webhook_url=OTHER_HOOK)
    # As in pytracking, a reader without include_webhook_url uses its own webhook...
    assert tracker.parse_click(other).webhook_url == HOOK
    # ...and one with it takes the token's, since it is authenticated and allowed.
    reader = tracker.with_overrides(include_webhook_url=True)
    assert reader.parse_click(other).webhook_url == OTHER_HOOK
    assert tracker.parse_click(plain).webhook_url == HOOK
    moved = tracker.open_url(META, base_open_tracking_url="https://u.example.com/px/")
    assert moved.startswith("https://u.example.com/px/")
    assert tracker.parse_open(moved).metadata == META
    # The tracker itself is unchanged.
    assert tracker.config.include_webhook_url is False
    assert tracker.open_url(META).startswith(OPEN_BASE)


def test_per_call_override_errors(tracker: Tracker[dict[str, Any]]) -> None:
    with pytest.raises(ConfigurationError) as info:
        tracker.click_url(TARGET, META, not_a_setting=1)
    assert info.value.field == "not_a_setting"
    with pytest.raises(ConfigurationError) as info:
        tracker.open_url(META, ttl=-5)
    assert info.value.field == "ttl"


def test_with_overrides(tracker: Tracker[dict[str, Any]], config: TrackingConfig) -> None:
    slashed = tracker.with_overrides(append_slash=True, webhook_url=HOOK)
    assert slashed.codec is tracker.codec  # nothing about tokens changed
    assert slashed.config.append_slash is True
    assert slashed.config.webhook_url == HOOK
    assert tracker.config is config
    assert slashed.click_url(TARGET).endswith("/")
    assert slashed.parse_click(slashed.click_url(TARGET)).webhook_url == HOOK

    signed = tracker.with_overrides(cipher="hmac", serializer="json")
    assert signed.codec is not tracker.codec
    result = tracker.parse_click(signed.click_url(TARGET, META))
    assert (result.cipher, result.serializer, result.metadata) == ("hmac", "json", META)

    typed = Tracker(config, metadata_model=Meta).with_overrides(append_slash=True)
    assert typed.metadata_model is Meta
    assert typed.parse_open(typed.open_url(Meta(customer_id=1))).metadata == Meta(customer_id=1)

    with pytest.raises(ConfigurationError):
        tracker.with_overrides(cipher="rot13")


def test_repr_names_model_and_codec(config: TrackingConfig) -> None:
    text = repr(Tracker(config, metadata_model=Meta))
    assert "Meta" in text
    assert "aes-siv" in text


# -- default metadata (pytracking's semantics) -----------------------------------------

DEFAULTS = {"app": "shop", "campaign": "default", "nested": {"x": 1}}


@pytest.mark.parametrize("include", [True, False])
def test_default_metadata_merge(fixed_keys: KeyRing, include: bool) -> None:
    tracker = Tracker(
        base_click_tracking_url=CLICK_BASE,
        base_open_tracking_url=OPEN_BASE,
        keys=fixed_keys,
        default_metadata=DEFAULTS,
        include_default_metadata=include,
    )
    meta = {"customer_id": 1, "campaign": "fall"}
    url = tracker.click_url(TARGET, meta)
    in_token = tracker.codec.decode(token_of(url))["metadata"]
    merged = {**DEFAULTS, **meta}  # the token's keys win
    assert in_token == (merged if include else meta)
    assert tracker.parse_click(url).metadata == merged
    # No metadata at all: the defaults alone.
    assert tracker.parse_open(tracker.open_url()).metadata == DEFAULTS
    # Same outcome as pytracking's semantics, as implemented by the compat module.
    legacy_cfg = compat.Configuration(
        base_click_tracking_url=CLICK_BASE,
        default_metadata=DEFAULTS,
        include_default_metadata=include,
    )
    legacy_url = compat.get_click_tracking_url(TARGET, meta, configuration=legacy_cfg)
    legacy_token = legacy_url[len(CLICK_BASE) :]
    assert legacy.decode_plain(legacy_token)["metadata"] == in_token
    assert compat.get_click_tracking_result(legacy_url, configuration=legacy_cfg).metadata == merged


def test_default_metadata_added_on_decode_only_when_not_included(fixed_keys: KeyRing) -> None:
    """With include_default_metadata=False, a token minted elsewhere gets this tracker's
    defaults on decode; with True, the token is taken as it is (as pytracking does)."""
    minting = Tracker(base_click_tracking_url=CLICK_BASE, keys=fixed_keys)
    url = minting.click_url(TARGET, {"customer_id": 1})
    adding = minting.with_overrides(default_metadata=DEFAULTS)
    assert adding.parse_click(url).metadata == {**DEFAULTS, "customer_id": 1}
    trusting = adding.with_overrides(include_default_metadata=True)
    assert trusting.parse_click(url).metadata == {"customer_id": 1}


def test_default_metadata_with_model(fixed_keys: KeyRing) -> None:
    tracker = Tracker(
        TrackingConfig(
            base_click_tracking_url=CLICK_BASE,
            keys=fixed_keys,
            default_metadata={"campaign": "default", "variant": "A"},
        ),
        metadata_model=Meta,
    )
    result = tracker.parse_click(tracker.click_url(TARGET, Meta(customer_id=3, campaign="x")))
    assert result.metadata == Meta(customer_id=3, campaign="x", variant="A")


# -- webhooks --------------------------------------------------------------------------


def test_webhook_from_configuration(fixed_keys: KeyRing) -> None:
    tracker = Tracker(base_click_tracking_url=CLICK_BASE, keys=fixed_keys, webhook_url=HOOK)
    url = tracker.click_url(TARGET)
    assert "webhook" not in tracker.codec.decode(token_of(url))
    assert tracker.parse_click(url).webhook_url == HOOK
    assert Tracker(keys=fixed_keys).parse_click(url).webhook_url is None


def test_webhook_in_token(fixed_keys: KeyRing) -> None:
    tracker = Tracker(
        base_click_tracking_url=CLICK_BASE,
        keys=fixed_keys,
        webhook_url=HOOK,
        include_webhook_url=True,
        allowed_webhook_urls=(OTHER_HOOK,),
    )
    url = tracker.click_url(TARGET)
    assert tracker.codec.decode(token_of(url))["webhook"] == HOOK
    assert tracker.parse_click(url).webhook_url == HOOK
    # A token minted with another allowed webhook names it.
    other = tracker.click_url(TARGET, webhook_url=OTHER_HOOK)
    assert tracker.parse_click(other).webhook_url == OTHER_HOOK
    # A reader whose configured webhook differs still honours an allowed one...
    reader = tracker.with_overrides(webhook_url="https://hooks.example.com/reader")
    assert reader.parse_click(other).webhook_url == OTHER_HOOK
    # ...and falls back to its own when the token's is not allowed.
    assert reader.parse_click(url).webhook_url == "https://hooks.example.com/reader"


def test_webhook_not_in_allow_list_is_replaced(fixed_keys: KeyRing) -> None:
    tracker = Tracker(base_click_tracking_url=CLICK_BASE, keys=fixed_keys, webhook_url=HOOK)
    # A key holder minted a token with an arbitrary webhook (say, an old one).
    token = tracker.codec.encode({"url": TARGET, "webhook": "http://169.254.169.254/latest"})
    assert tracker.parse_click(token).webhook_url == HOOK
    no_hook = Tracker(keys=fixed_keys)
    assert no_hook.parse_click(token).webhook_url is None


def test_webhook_of_unauthenticated_token_is_ignored(fixed_keys: KeyRing) -> None:
    tracker = Tracker(
        base_click_tracking_url=CLICK_BASE,
        keys=None,
        cipher="plain",
        webhook_url=HOOK,
        include_webhook_url=True,
        allowed_webhook_urls=(OTHER_HOOK,),
    )
    url = tracker.click_url(TARGET, webhook_url=OTHER_HOOK)
    assert tracker.codec.decode(token_of(url))["webhook"] == OTHER_HOOK
    result = tracker.parse_click(url)
    assert result.authenticated is False
    assert result.webhook_url == HOOK


# -- TTL -------------------------------------------------------------------------------

T0 = 1_789_459_200


def test_ttl(fixed_keys: KeyRing) -> None:
    tracker = Tracker(base_click_tracking_url=CLICK_BASE, keys=fixed_keys, ttl=3600)
    token = tracker.codec.encode({"url": TARGET}, now=T0)
    result = tracker.parse_click(token, now=T0 + 3600)
    assert result.issued_at == T0
    assert result.timestamp == T0 + 3600
    with pytest.raises(TokenExpired) as info:
        tracker.parse_click(token, now=T0 + 3601)
    assert info.value.issued_at == T0
    with pytest.raises(TokenExpired):
        tracker.parse(CLICK_BASE + token, now=T0 + 10**6)
    with pytest.raises(TokenExpired):
        tracker.redirect_target(token, now=T0 + 3601)


def test_ttl_writes_issue_time(fixed_keys: KeyRing) -> None:
    tracker = Tracker(base_open_tracking_url=OPEN_BASE, keys=fixed_keys, ttl=60)
    result = tracker.parse_open(tracker.open_url({"a": 1}))
    assert result.issued_at is not None
    assert tracker.parse_open(tracker.open_url({"a": 1}), now=result.issued_at + 60).metadata
    with pytest.raises(TokenExpired):
        tracker.parse_open(tracker.open_url({"a": 1}), now=result.issued_at + 10**6)


def test_ttl_refuses_tokens_without_issue_time(
    tracker: Tracker[dict[str, Any]], fixed_keys: KeyRing
) -> None:
    url = tracker.click_url(TARGET)
    assert tracker.parse_click(url).issued_at is None
    with pytest.raises(TokenExpired):
        tracker.with_overrides(ttl=10**9).parse_click(url)


def test_timestamp_without_ttl(fixed_keys: KeyRing) -> None:
    tracker = Tracker(base_click_tracking_url=CLICK_BASE, keys=fixed_keys, timestamp=True)
    token = tracker.codec.encode({"url": TARGET}, now=T0)
    result = tracker.parse_click(token, now=T0 + 10**8)  # no ttl: never expires
    assert result.issued_at == T0


# -- redirect_target -------------------------------------------------------------------


def test_redirect_target(tracker: Tracker[dict[str, Any]]) -> None:
    assert tracker.redirect_target(tracker.click_url(TARGET)) == TARGET
    with pytest.raises(InvalidToken):
        tracker.redirect_target(CLICK_BASE + "garbage")
    with pytest.raises(InvalidToken):
        tracker.redirect_target(tracker.open_url({"a": 1}))


def test_redirect_target_with_fallback(fixed_keys: KeyRing) -> None:
    tracker = Tracker(
        base_click_tracking_url=CLICK_BASE,
        base_open_tracking_url=OPEN_BASE,
        keys=fixed_keys,
        fallback_url="https://www.example.com/",
        redirect_hosts=("shop.example.com",),
        ttl=60,
    )
    assert tracker.redirect_target(tracker.click_url(TARGET)) == TARGET
    for bad in (
        CLICK_BASE + "garbage",
        tracker.open_url({"a": 1}),
        tracker.codec.encode({"url": "https://evil.example/"}),
        tracker.codec.encode({"url": TARGET}, now=T0),
    ):
        assert tracker.redirect_target(bad) == "https://www.example.com/"


# -- TrackingResult --------------------------------------------------------------------


def test_result_fields(fixed_keys: KeyRing) -> None:
    tracker = Tracker(
        base_click_tracking_url=CLICK_BASE,
        keys=fixed_keys,
        serializer="json",
        cipher="hmac",
        webhook_url=HOOK,
        timestamp=True,
    )
    token = tracker.codec.encode({"url": TARGET, "metadata": META}, now=T0)
    result = tracker.parse_click(CLICK_BASE + token, {"ip": "192.0.2.1"}, now=T0 + 5)
    assert result.kind == "click"
    assert result.is_click_tracking is True
    assert result.is_open_tracking is False
    assert result.tracked_url == TARGET
    assert result.metadata == META
    assert result.webhook_url == HOOK
    assert result.request_data == {"ip": "192.0.2.1"}
    assert result.timestamp == T0 + 5
    assert result.issued_at == T0
    assert result.serializer == "json"
    assert result.cipher == "hmac"
    assert result.key_id == 0
    assert result.authenticated is True
    assert result.legacy is False


def test_result_decode_time_is_the_clock_by_default(tracker: Tracker[dict[str, Any]]) -> None:
    import time

    before = int(time.time())
    result = tracker.parse_open(tracker.open_url())
    assert before <= result.timestamp <= int(time.time())
    assert result.is_open_tracking is True
    assert result.is_click_tracking is False


def test_result_key_id_follows_rotation(fixed_keys: KeyRing) -> None:
    rotated = fixed_keys.rotate(bytes(range(32)), key_id=42)
    old = Tracker(base_click_tracking_url=CLICK_BASE, keys=fixed_keys)
    new = Tracker(base_click_tracking_url=CLICK_BASE, keys=rotated)
    assert new.parse_click(old.click_url(TARGET)).key_id == 0
    assert new.parse_click(new.click_url(TARGET)).key_id == 42


def test_result_to_json_dict(tracker: Tracker[dict[str, Any]], config: TrackingConfig) -> None:
    result = tracker.parse_click(tracker.click_url(TARGET, META), {"ua": "x"}, now=T0)
    data = result.to_json_dict()
    assert json.loads(json.dumps(data)) == data
    assert data == {
        "kind": "click",
        "is_open_tracking": False,
        "is_click_tracking": True,
        "tracked_url": TARGET,
        "metadata": META,
        "webhook_url": None,
        "request_data": {"ua": "x"},
        "timestamp": T0,
        "issued_at": None,
        "serializer": "msgpack",
        "cipher": "aes-siv",
        "key_id": 0,
        "authenticated": True,
        "legacy": False,
    }
    typed = Tracker(config, metadata_model=Meta)
    typed_data = typed.parse_open(typed.open_url(Meta(customer_id=5))).to_json_dict()
    assert json.dumps(typed_data)
    assert typed_data["metadata"] == {"customer_id": 5, "campaign": None, "variant": None}


def test_result_is_frozen(tracker: Tracker[dict[str, Any]]) -> None:
    result = tracker.parse_click(tracker.click_url(TARGET, META))
    with pytest.raises(ValidationError):
        result.tracked_url = "https://evil.example/"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        result.authenticated = False  # type: ignore[misc]
    assert result.tracked_url == TARGET
