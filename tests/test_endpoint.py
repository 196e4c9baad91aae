"""`trackcodec.endpoint`: the framework-neutral core every adapter sits on."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from endpoint_support import (
    CLICK_BASE,
    FALLBACK,
    OPEN_BASE,
    TARGET,
    bad_paths,
    legacy_plain_click,
    make_tracker,
    path_of,
)
from trackcodec import (
    BadSignature,
    ConfigurationError,
    InvalidToken,
    LimitExceeded,
    MalformedToken,
    PayloadError,
    RedirectNotAllowed,
    TokenExpired,
    TrackingEvent,
    UnknownKey,
)
from trackcodec.endpoint import (
    GIF_PIXEL,
    PNG_PIXEL,
    EndpointRequest,
    EndpointResponse,
    EndpointSettings,
    RouteNotFound,
    TrackingEndpoint,
)

NOW = 1_800_000_000.0
LATER = NOW + 3600
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0"
TRACKER = make_tracker()
ENDPOINT = TrackingEndpoint(TRACKER)


def get(path: str, method: str = "GET", **headers: str) -> EndpointRequest:
    path, _, query = path.partition("?")
    merged = {"user-agent": CHROME, **{k.replace("_", "-"): v for k, v in headers.items()}}
    return EndpointRequest(method, path, merged, "203.0.113.9", query)


def header(response: EndpointResponse, name: str) -> str | None:
    return dict(response.headers).get(name)


# -- opens -------------------------------------------------------------------------------


def test_pixels() -> None:
    assert len(GIF_PIXEL) == 43
    assert GIF_PIXEL.startswith(b"GIF89a\x01\x00\x01\x00")
    assert GIF_PIXEL.endswith(b";")
    import pytracking

    assert PNG_PIXEL == pytracking.TRACKING_PIXEL


def test_open_answers_the_gif_and_an_event() -> None:
    url = TRACKER.open_url({"customer_id": 7, "campaign": "spring"}, now=NOW)
    response = ENDPOINT.handle_open(get(path_of(url)), now=LATER)
    assert response.status == 200
    assert response.body == GIF_PIXEL
    assert header(response, "content-type") == "image/gif"
    assert header(response, "content-length") == "43"
    assert header(response, "cache-control") == "no-store, no-cache, must-revalidate, private"
    assert header(response, "pragma") == "no-cache"
    assert header(response, "expires") == "0"
    assert response.kind == "open"
    assert response.error is None
    event = response.event
    assert event is not None
    assert event.kind == "open"
    assert event.metadata == {"customer_id": 7, "campaign": "spring"}
    assert event.timestamp == LATER
    assert event.issued_at == int(NOW)
    assert event.key_id == 0
    assert event.authenticated
    assert not event.legacy
    assert event.client_ip == "203.0.113.9"
    assert event.user_agent == CHROME
    assert event.method == "GET"
    assert event.likely == "human"
    assert event.machine_reason is None
    assert event.tracked_url is None
    # JSON-serialisable, and back.
    assert TrackingEvent.model_validate_json(event.model_dump_json()) == event


def test_head_gets_headers_only_and_is_a_machine() -> None:
    url = TRACKER.open_url({"customer_id": 7}, now=NOW)
    response = ENDPOINT.handle_open(get(path_of(url), "HEAD"), now=LATER)
    assert response.status == 200
    assert response.body == b""
    assert header(response, "content-length") == "43"
    assert response.event is not None
    assert response.event.method == "HEAD"
    assert response.event.machine_reason == "head-request"


def test_png_pixel_setting() -> None:
    endpoint = TrackingEndpoint(TRACKER, settings=EndpointSettings(pixel="png"))
    url = TRACKER.open_url(now=NOW)
    response = endpoint.handle_open(get(path_of(url)), now=LATER)
    assert response.body == PNG_PIXEL
    assert header(response, "content-type") == "image/png"
    assert header(response, "content-length") == str(len(PNG_PIXEL))


def test_invalid_open_gets_404_by_default_and_the_pixel_when_configured() -> None:
    response = ENDPOINT.handle_open(get("/o/garbage"), now=LATER)
    assert response.status == 404
    assert response.event is None
    assert isinstance(response.error, InvalidToken)
    assert b"garbage" not in response.body
    pixel = TrackingEndpoint(TRACKER, settings=EndpointSettings(invalid_open="pixel"))
    response = pixel.handle_open(get("/o/garbage"), now=LATER)
    assert response.status == 200
    assert response.body == GIF_PIXEL
    assert response.event is None
    assert isinstance(response.error, MalformedToken)


def test_metadata_models_become_json_data() -> None:
    class Meta(BaseModel):
        customer_id: int
        tags: frozenset[str] = frozenset()

    tracker = make_tracker().with_overrides()
    from trackcodec import Tracker

    typed = Tracker(tracker.config, metadata_model=Meta)
    endpoint = TrackingEndpoint(typed)
    url = typed.open_url(Meta(customer_id=3, tags=frozenset({"a"})), now=NOW)
    event = endpoint.handle_open(get(path_of(url)), now=LATER).event
    assert event is not None
    assert event.metadata == {"customer_id": 3, "tags": ["a"]}
    json.dumps(event.metadata)


# -- clicks ------------------------------------------------------------------------------


def test_click_redirects_without_leaking_the_referrer() -> None:
    url = TRACKER.click_url(TARGET, {"customer_id": 7}, now=NOW)
    response = ENDPOINT.handle_click(get(path_of(url)), now=LATER)
    assert response.status == 302
    assert header(response, "location") == TARGET
    assert header(response, "referrer-policy") == "no-referrer"
    assert header(response, "cache-control") == "no-store"
    assert response.body == b""
    assert response.event is not None
    assert response.event.kind == "click"
    assert response.event.tracked_url == TARGET
    assert response.event.metadata == {"customer_id": 7}


def test_non_ascii_targets_are_sent_as_ascii() -> None:
    target = "https://BÜCHER.example:8443/straße?q=é&x=a b#frag"
    url = TRACKER.click_url(target, now=NOW)
    response = ENDPOINT.handle_click(get(path_of(url)), now=LATER)
    location = header(response, "location")
    # Only the non-ASCII characters change, to the %-escapes of their UTF-8 bytes.
    assert location == "https://B%C3%9CCHER.example:8443/stra%C3%9Fe?q=%C3%A9&x=a b#frag"
    assert response.event is not None
    assert response.event.tracked_url == target


def test_redirect_status_setting() -> None:
    endpoint = TrackingEndpoint(TRACKER, settings=EndpointSettings(redirect_status=307))
    url = TRACKER.click_url(TARGET, now=NOW)
    assert endpoint.handle_click(get(path_of(url)), now=LATER).status == 307


def test_bad_click_goes_to_the_fallback_url() -> None:
    endpoint = TrackingEndpoint(make_tracker(fallback_url=FALLBACK))
    response = endpoint.handle_click(get("/c/garbage"), now=LATER)
    assert response.status == 302
    assert header(response, "location") == FALLBACK
    assert header(response, "referrer-policy") == "no-referrer"
    assert response.event is None
    assert isinstance(response.error, MalformedToken)


def test_legacy_links_still_redirect() -> None:
    response = ENDPOINT.handle_click(get(path_of(legacy_plain_click(TARGET))), now=LATER)
    assert response.status == 302
    assert header(response, "location") == TARGET
    assert response.event is not None
    assert response.event.legacy
    assert not response.event.authenticated
    assert response.event.key_id is None


def test_token_in_a_query_parameter() -> None:
    tracker = make_tracker(
        base_open_tracking_url="https://t.example.com/track?kind=o",
        base_click_tracking_url="https://t.example.com/track?kind=c",
        token_param="t",
    )
    endpoint = TrackingEndpoint(tracker)
    url = tracker.click_url(TARGET, now=NOW)
    response = endpoint.handle_click(get(path_of(url)), now=LATER)
    assert response.status == 302
    assert header(response, "location") == TARGET


# -- bad input ---------------------------------------------------------------------------

EXPECTED_ERRORS: dict[str, type[InvalidToken]] = {
    "garbage-open": MalformedToken,
    "garbage-click": InvalidToken,
    "empty-open": MalformedToken,
    "truncated-open": InvalidToken,
    "truncated-click": InvalidToken,
    "other-key-click": InvalidToken,
    "open-token-on-click-route": PayloadError,
    "click-token-on-open-route": PayloadError,
    "oversized-open": LimitExceeded,
    "oversized-click": LimitExceeded,
    "javascript-legacy-click": RedirectNotAllowed,
    "data-legacy-click": RedirectNotAllowed,
}


@pytest.mark.parametrize("name", sorted(EXPECTED_ERRORS))
def test_bad_paths_get_404_with_the_reason(name: str) -> None:
    path = bad_paths(TRACKER, now=NOW)[name]
    for method in ("GET", "HEAD"):
        response = ENDPOINT.handle(get(path, method), now=LATER)
        assert response.status == 404, name
        assert response.event is None
        assert isinstance(response.error, EXPECTED_ERRORS[name]), repr(response.error)
        assert response.body == (b"" if method == "HEAD" else b"Not Found")


def test_bad_paths_list_is_the_one_tested() -> None:
    assert set(bad_paths(TRACKER, now=NOW)) == set(EXPECTED_ERRORS)


def test_other_key_is_an_unknown_key_or_bad_signature() -> None:
    response = ENDPOINT.handle(get(bad_paths(TRACKER, now=NOW)["other-key-click"]), now=LATER)
    assert isinstance(response.error, (UnknownKey, BadSignature))


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "get"])
def test_other_methods_get_405_with_allow(method: str) -> None:
    url = TRACKER.click_url(TARGET, now=NOW)
    for handler in (ENDPOINT.handle_open, ENDPOINT.handle_click, ENDPOINT.handle):
        response = handler(get(path_of(url), method), now=LATER)
        assert response.status == 405
        assert header(response, "allow") == "GET, HEAD"
        assert response.event is None


def test_expired_tokens_get_404() -> None:
    tracker = make_tracker(ttl=60)
    url = tracker.click_url(TARGET, now=NOW)
    response = TrackingEndpoint(tracker).handle_click(get(path_of(url)), now=NOW + 61)
    assert response.status == 404
    assert isinstance(response.error, TokenExpired)


def test_every_altered_character_is_refused_or_harmless() -> None:
    url = TRACKER.click_url(TARGET, {"customer_id": 1}, now=NOW)
    path = path_of(url)
    prefix, token = path.rsplit("/", 1)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for i, char in enumerate(token):
        altered = token[:i] + alphabet[(alphabet.index(char) + 1) % 64] + token[i + 1 :]
        response = ENDPOINT.handle_click(get(f"{prefix}/{altered}"), now=LATER)
        # The last character's low bits may be padding that base64 ignores.
        assert response.status == 404 or header(response, "location") == TARGET


@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "BREW", ""]),
    path=st.text(max_size=300).map(lambda s: "/" + s)
    | st.sampled_from(["/o/", "/c/"]).flatmap(
        lambda p: st.text(alphabet="ABCxyz019-_=/.%eyJgAAAAA", max_size=200).map(lambda s: p + s)
    ),
    query=st.text(max_size=50),
    headers=st.dictionaries(
        st.sampled_from(["user-agent", "x-forwarded-for", "host", "referer"]), st.text(max_size=40)
    ),
    peer=st.none() | st.text(max_size=40) | st.ip_addresses().map(str),
)
def test_no_request_makes_the_core_raise(
    method: str, path: str, query: str, headers: dict[str, str], peer: str | None
) -> None:
    request = EndpointRequest(method, path, headers, peer, query)
    for handler in (ENDPOINT.handle, ENDPOINT.handle_open, ENDPOINT.handle_click):
        response = handler(request, now=LATER)
        assert response.status in (404, 405)
        assert response.event is None
        assert (response.error is not None) == (response.status == 404)
        for name, value in response.headers:
            assert name.isascii()
            assert value.isascii()


# -- routing and settings ----------------------------------------------------------------


def test_handle_routes_by_base_path() -> None:
    open_url = TRACKER.open_url(now=NOW)
    click_url = TRACKER.click_url(TARGET, now=NOW)
    assert ENDPOINT.route("/o/x") == "open"
    assert ENDPOINT.route("/c/x") == "click"
    assert ENDPOINT.route("/x") is None
    assert ENDPOINT.handle(get(path_of(open_url)), now=LATER).kind == "open"
    assert ENDPOINT.handle(get(path_of(click_url)), now=LATER).status == 302
    response = ENDPOINT.handle(get("/elsewhere/token"), now=LATER)
    assert response.status == 404
    assert response.kind is None
    assert isinstance(response.error, RouteNotFound)


def test_longest_base_path_wins() -> None:
    tracker = make_tracker(
        base_click_tracking_url="https://t.example.com/",
        base_open_tracking_url="https://t.example.com/o/",
    )
    endpoint = TrackingEndpoint(tracker)
    assert endpoint.route("/o/token") == "open"
    assert endpoint.route("/token") == "click"


def test_from_settings_splits_tracker_and_endpoint_settings() -> None:
    settings: dict[str, Any] = {
        "base_open_tracking_url": OPEN_BASE,
        "base_click_tracking_url": CLICK_BASE,
        "keys": "tck1:1.PaOhPHhF5o5deCwYi6BUtOU3Jt4QzalvheEHmq3NXf0",
        "pixel": "png",
        "early_seconds": 0,
    }
    endpoint = TrackingEndpoint.from_settings(settings)
    assert endpoint.settings.pixel == "png"
    assert endpoint.tracker.config.base_open_tracking_url == OPEN_BASE
    with pytest.raises(ConfigurationError, match="no_such_setting"):
        TrackingEndpoint.from_settings({**settings, "no_such_setting": 1})


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"pixel": "jpeg"}, "pixel"),
        ({"invalid_open": "500"}, "invalid_open"),
        ({"trusted_proxy_count": -1}, "trusted_proxy_count"),
        ({"trusted_proxy_count": 1, "trusted_proxies": ["10.0.0.1"]}, "trusted_proxies"),
        ({"max_path_length": 3}, "max_path_length"),
    ],
)
def test_invalid_settings_name_the_field(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        EndpointSettings(**settings)
    assert info.value.field == field


def test_client_ip_goes_into_the_event_through_trusted_proxies_only() -> None:
    url = path_of(TRACKER.open_url(now=NOW))
    spoofed = get(url, x_forwarded_for="198.51.100.1")
    assert ENDPOINT.client_ip(spoofed) == "203.0.113.9"
    behind = TrackingEndpoint(TRACKER, settings=EndpointSettings(trusted_proxy_count=1))
    event = behind.handle_open(spoofed, now=LATER).event
    assert event is not None
    assert event.client_ip == "198.51.100.1"


def test_events_have_unique_sortable_ids() -> None:
    url = path_of(TRACKER.open_url(now=NOW))
    ids = [ENDPOINT.handle_open(get(url), now=LATER + i).event.id for i in range(50)]  # type: ignore[union-attr]
    assert len(set(ids)) == 50
    assert ids == sorted(ids)


@given(
    st.text(
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters="%"),
        max_size=40,
    )
)
def test_any_allowed_target_is_redirected_in_ascii_to_the_same_url(tail: str) -> None:
    target = f"https://shop.example.com/{tail}"
    url = TRACKER.click_url(target, now=NOW)
    response = ENDPOINT.handle_click(get(path_of(url)), now=LATER)
    location = header(response, "location")
    assert location is not None
    assert location.isascii()
    assert unquote(location) == target


def test_bad_proxy_entries_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError) as info:
        TrackingEndpoint(TRACKER, settings=EndpointSettings(trusted_proxies=("not an address",)))
    assert info.value.field == "trusted_proxies"
    # A count of 0 means no proxy, and may sit beside a list.
    settings = EndpointSettings(trusted_proxy_count=0, trusted_proxies=("10.0.0.0/8",))
    assert (
        TrackingEndpoint(TRACKER, settings=settings).client_ip(
            EndpointRequest("GET", "/o/x", {"x-forwarded-for": "198.51.100.1"}, "10.0.0.1")
        )
        == "198.51.100.1"
    )
