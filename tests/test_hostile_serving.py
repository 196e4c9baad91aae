"""Hostile clients and token minters against the endpoint core and every adapter.

Each test is an attack; it passes when the attack is held (a 4xx or a safe
redirect, no 500, nothing of the attacker's reaching a header unescaped).
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from endpoint_support import ListSink, legacy_plain_click, make_tracker, path_of
from trackcodec import PayloadError, RedirectNotAllowed, Tracker
from trackcodec.asgi import TrackingASGIApp
from trackcodec.client_ip import ClientIPResolver, normalize_ip
from trackcodec.endpoint import (
    EndpointRequest,
    EndpointResponse,
    EndpointSettings,
    TrackingEndpoint,
)
from trackcodec.wsgi import TrackingWSGIApp

NOW = 1_800_000_000.0
TRACKER = make_tracker()
ENDPOINT = TrackingEndpoint(TRACKER)
JSON_TRACKER = make_tracker(serializer="json", compressor="none")
JSON_ENDPOINT = TrackingEndpoint(JSON_TRACKER)

# pytracking's plain tokens are unauthenticated: anyone can write one, with any JSON.
LONE_SURROGATE_PAYLOADS = {
    "in-target": '{"url": "https://shop.example.com/\\udcff", "metadata": {}}',
    "in-host": '{"url": "https://\\ud800/", "metadata": {}}',
    "in-metadata-value": '{"url": "https://shop.example.com/", "metadata": {"x": ["\\udcff"]}}',
    "in-metadata-key": '{"url": "https://shop.example.com/", "metadata": {"\\udbff": 1}}',
    "open-in-metadata": '{"metadata": {"x": "\\udcff"}}',
}
ODD_TARGETS = [
    "https://shop.example.com/\r\nSet-Cookie: a=1",
    "https://shop.example.com/\nx",
    "https://shop.example.com/\x00",
    "https://shop.example.com/\x7f",
    "https://shop.example.com/\t",
    "https://shop.example.com/\u2028\u2029\x85",
    "https://évil.example/ünïcode",
    "https://shop.example.com/\ufeff",
    "https:evil.example",
    "https:/evil.example",
    "https:\\\\evil.example",
    "//evil.example/",
    "\\\\evil.example",
    "/\\evil.example",
    "https://shop.example.com\\@evil.example/",
    " https://evil.example/",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>1</script>",
    "https://",
    "",
]


def plain_token(payload: str) -> str:
    return base64.urlsafe_b64encode(payload.encode()).decode()


def request(path: str, method: str = "GET", **headers: str) -> EndpointRequest:
    path, _, query = path.partition("?")
    return EndpointRequest(method, path, headers, "203.0.113.9", query)


def assert_headers_safe(response: EndpointResponse) -> None:
    for name, value in response.headers:
        value.encode("ascii")  # a Location is ASCII (non-ASCII is %-escaped)
        assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in name + value), (name, value)


def codec_click(tracker: Tracker[Any], target: str) -> str:
    """A click path whose authenticated token carries ``target``, minted past click_url's check."""
    return "/c/" + tracker.codec.encode({"url": target, "metadata": {}}, now=NOW)


# -- lone surrogates: a legacy token or a JSON-serialized one could crash the endpoint ---------


@pytest.mark.parametrize("name", sorted(LONE_SURROGATE_PAYLOADS))
def test_lone_surrogate_in_a_plain_legacy_token_is_a_404(name: str) -> None:
    payload = LONE_SURROGATE_PAYLOADS[name]
    route = "/o/" if name.startswith("open") else "/c/"
    response = ENDPOINT.handle(request(route + plain_token(payload)))
    assert response.status == 404
    assert isinstance(response.error, PayloadError)
    assert response.event is None


def test_lone_surrogate_in_an_authenticated_json_token_is_a_404() -> None:
    # A JSON serializer escapes nothing, but a minter holding the key can write any JSON.
    good = JSON_TRACKER.click_url("https://shop.example.com/x", now=NOW)
    assert JSON_ENDPOINT.handle(request(path_of(good)), now=NOW).status == 302
    from trackcodec.serializers.json import JSONSerializer

    serializer = JSONSerializer()
    original_dumps = serializer.dumps
    raw = b'{"url":"https://shop.example.com/\\udcff","metadata":{}}'
    serializer.dumps = lambda obj: raw  # type: ignore[method-assign]
    try:
        minter = make_tracker(serializer=serializer, compressor="none")
        path = "/c/" + minter.codec.encode({"url": "x"}, now=NOW)
    finally:
        serializer.dumps = original_dumps  # type: ignore[method-assign]
    response = JSON_ENDPOINT.handle(request(path), now=NOW)
    assert response.status == 404
    assert isinstance(response.error, PayloadError)


def test_paired_surrogate_escapes_still_decode() -> None:
    payload = (
        '{"url": "https://shop.example.com/\\ud83d\\ude00", "metadata": {"e": "\\ud83d\\ude00"}}'
    )
    response = ENDPOINT.handle(request("/c/" + plain_token(payload)))
    assert response.status == 302
    assert dict(response.headers)["location"] == "https://shop.example.com/%F0%9F%98%80"
    assert response.event is not None
    assert response.event.metadata == {"e": "\U0001f600"}


def test_lone_surrogate_through_wsgi_and_asgi_is_a_404() -> None:
    path = "/c/" + plain_token(LONE_SURROGATE_PAYLOADS["in-target"])
    sink = ListSink()
    statuses: list[str] = []
    app = TrackingWSGIApp(ENDPOINT, sink=sink)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "REMOTE_ADDR": "203.0.113.9"}
    body = b"".join(app(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["404 Not Found"]
    assert body == b"Not Found"

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}
    asyncio.run(TrackingASGIApp(ENDPOINT, sink=sink)(scope, receive, send))
    assert sent[0]["status"] == 404
    assert sink.events == []


def test_lone_surrogate_through_flask_starlette_and_django() -> None:
    from flask import Flask
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from trackcodec.flask import Tracking
    from trackcodec.starlette import tracking_routes

    path = "/c/" + plain_token(LONE_SURROGATE_PAYLOADS["in-target"])
    flask_app = Flask(__name__)
    flask_app.config["TRACKCODEC"] = TRACKER.config.model_dump()
    Tracking(flask_app)
    flask_response = flask_app.test_client().get(path)
    assert flask_response.status_code == 404
    assert b"surrogate" not in flask_response.data

    client = TestClient(Starlette(routes=tracking_routes(ENDPOINT)), raise_server_exceptions=True)
    starlette_response = client.get(path, follow_redirects=False)
    assert starlette_response.status_code == 404

    from django.test import Client

    from django_support import configure

    configure()
    django_path = "/t" + path
    assert Client().get(django_path).status_code == 404
    compat = "/compat/click/" + plain_token(LONE_SURROGATE_PAYLOADS["in-target"])
    assert Client().get(compat).status_code == 404


# -- odd click targets: nothing reaches Location but an allowed, escaped URL -------------------


@pytest.mark.parametrize("target", ODD_TARGETS)
@pytest.mark.parametrize("minted_by", ["pytracking", "codec"])
def test_odd_targets_never_split_or_escape_the_location(target: str, minted_by: str) -> None:
    if minted_by == "pytracking":
        path = path_of(legacy_plain_click(target)) if target else "/c/" + plain_token("{}")
    else:
        path = codec_click(TRACKER, target)
    response = ENDPOINT.handle(request(path), now=NOW)
    assert_headers_safe(response)
    if response.status == 302:
        location = dict(response.headers)["location"]
        assert location.lower().startswith(("https://", "http://"))
        authority = location.split("/", 3)[2]
        assert "\\" not in authority
        assert "evil" not in authority
    else:
        assert response.status == 404
        assert response.error is not None


def test_percent_encoded_crlf_stays_encoded() -> None:
    target = "https://shop.example.com/%0d%0aSet-Cookie:%20a=1"
    response = ENDPOINT.handle(request(path_of(legacy_plain_click(target))))
    assert dict(response.headers)["location"] == target


def test_host_allow_list_is_not_fooled() -> None:
    tracker = make_tracker(redirect_hosts=("shop.example.com", ".example.org"))
    endpoint = TrackingEndpoint(tracker)
    for target in [
        "https://shop.example.com.evil.example/",
        "https://shop.example.com@evil.example/",
        "https://evil.example#@shop.example.com/",
        "https://evil.example?@shop.example.com/",
        "https://evil.example\\@shop.example.com/",
        "https://evilexample.org/",
        "https://shop.example.com%2eevil.example/",
        "https://shop.example.com:443@evil.example/",
        "https://[::1]@shop.example.com.evil.example/",
    ]:
        response = endpoint.handle(request(codec_click(tracker, target)), now=NOW)
        assert response.status == 404, target
        assert isinstance(response.error, RedirectNotAllowed), target
    for target in ["https://SHOP.example.com./x", "https://a.example.org/", "https://example.org/"]:
        response = endpoint.handle(request(codec_click(tracker, target)), now=NOW)
        assert response.status == 302, target


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_target_in_a_legacy_token_gives_a_safe_answer(target: str) -> None:
    payload = json.dumps({"url": target, "metadata": {}})
    response = ENDPOINT.handle(request("/c/" + plain_token(payload)))
    assert response.status in (302, 404)
    assert_headers_safe(response)


# -- hostile requests: paths, queries, methods, headers --------------------------------------

printable_or_not = st.text(alphabet=st.characters(codec="latin-1"), max_size=300)


@settings(max_examples=300, deadline=None)
@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "get", "", "GET\r\n", "OPTIONS", "X" * 300]),
    path=st.one_of(
        printable_or_not, printable_or_not.map(lambda p: "/c/" + p), st.just("/o/" + "A" * 9000)
    ),
    query=printable_or_not,
    headers=st.dictionaries(
        st.sampled_from(["user-agent", "x-forwarded-for", "host", "cookie"]), printable_or_not
    ),
    peer=st.one_of(st.none(), printable_or_not, st.just("fe80::1%\r\nX: y")),
)
def test_any_request_is_answered_without_raising(
    method: str, path: str, query: str, headers: dict[str, str], peer: str | None
) -> None:
    response = ENDPOINT.handle(EndpointRequest(method, path, headers, peer, query))
    assert response.status in (200, 302, 404, 405)
    assert_headers_safe(response)
    if method not in ("GET", "HEAD") and ENDPOINT.route(path) is not None:
        assert response.status == 405
    if method == "HEAD" or response.status == 302:
        assert response.body == b""


def test_head_answers_have_no_body() -> None:
    for path in [path_of(TRACKER.open_url(now=NOW)), "/o/garbage", "/nowhere"]:
        response = ENDPOINT.handle(request(path, "HEAD"), now=NOW)
        assert response.body == b""
        assert response.status in (200, 404)


def test_max_path_length_counts_the_query() -> None:
    response = ENDPOINT.handle(request("/c/x?" + "a" * 9000))
    assert response.status == 404


@pytest.mark.parametrize(
    "environ_extra",
    [
        {"PATH_INFO": "/c/\xff\xfe\x00", "QUERY_STRING": "\xff=\r\n"},
        {"PATH_INFO": "", "REQUEST_METHOD": ""},
        {"PATH_INFO": "/o/x", "HTTP_X_FORWARDED_FOR": "1.2.3.4, " * 5000, "REMOTE_ADDR": ""},
        {"PATH_INFO": "/o/x", "HTTP_USER_AGENT": b"bytes", "SCRIPT_NAME": "/\x00"},
        {"PATH_INFO": "/o/x", "REQUEST_METHOD": "BREW"},
    ],
)
def test_plain_wsgi_environ_garbage_is_a_4xx(environ_extra: dict[str, Any]) -> None:
    statuses: list[str] = []
    environ: dict[str, Any] = {"REQUEST_METHOD": "GET", **environ_extra}
    body = b"".join(TrackingWSGIApp(ENDPOINT)(environ, lambda s, h: statuses.append(s)))
    assert statuses[0][:3] in ("404", "405")
    assert body in (b"Not Found", b"Method Not Allowed")


@pytest.mark.parametrize(
    "scope_extra",
    [
        {"path": "/c/\udcff\x00", "query_string": b"\xff\xfe\r\n"},
        {"path": "/o/x", "headers": [(b"x-forwarded-for", b"\xff" * 10_000)], "client": None},
        {"path": "/o/x", "headers": [(b"user-agent", b"\x00\r\n")], "root_path": "/\xff"},
        {"path": "/o/x", "method": "DELETE"},
        {"path": "/o/x", "client": ("fe80::1%\r\nX", 1)},
    ],
)
def test_raw_asgi_scope_garbage_is_a_4xx(scope_extra: dict[str, Any]) -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "headers": [], **scope_extra}
    asyncio.run(TrackingASGIApp(ENDPOINT)(scope, receive, send))
    assert sent[0]["status"] in (404, 405)
    assert sent[1]["body"] in (b"Not Found", b"Method Not Allowed")


# -- client addresses: what a client can make the endpoint record -----------------------------


@pytest.mark.parametrize(
    "text", ["fe80::1%eth0", "fe80::1%<script>", "[fe80::1%\r\nX]", "fe80::1%x y"]
)
def test_zone_ids_are_dropped_from_addresses(text: str) -> None:
    assert normalize_ip(text) == "fe80::1"


@pytest.mark.parametrize("mode", [{"trusted_proxy_count": 1}, {"trusted_proxies": ("10.0.0.0/8",)}])
def test_forwarded_garbage_never_becomes_the_recorded_address(mode: dict[str, Any]) -> None:
    resolver = ClientIPResolver(**mode)
    peer = "10.0.0.1"
    assert resolver.resolve({"x-forwarded-for": "fe80::1%<script>"}, peer) == "fe80::1"
    assert resolver.resolve({"x-forwarded-for": "garbage, 999.1.1.1,,, "}, peer) == peer
    assert resolver.resolve({"x-forwarded-for": "\x00"}, peer) == peer
    assert resolver.resolve({"x-forwarded-for": "::ffff:198.51.100.7"}, peer) == "198.51.100.7"
    long_chain = ", ".join(f"198.51.100.{i % 250}" for i in range(5000))
    assert resolver.resolve({"x-forwarded-for": long_chain}, peer) == "198.51.100.249"


def test_forwarded_header_is_ignored_without_trusted_proxies() -> None:
    endpoint = TrackingEndpoint(TRACKER)
    path = path_of(TRACKER.open_url(now=NOW))
    response = endpoint.handle(request(path, x_forwarded_for="198.51.100.1"), now=NOW)
    assert response.event is not None
    assert response.event.client_ip == "203.0.113.9"


def test_recorded_address_through_a_trusted_proxy_has_no_zone_id() -> None:
    endpoint = TrackingEndpoint(TRACKER, settings=EndpointSettings(trusted_proxy_count=1))
    path = path_of(TRACKER.open_url(now=NOW))
    headers = {"x-forwarded-for": "fe80::1%<script>"}
    response = endpoint.handle(EndpointRequest("GET", path, headers, "10.0.0.1"), now=NOW)
    assert response.event is not None
    assert response.event.client_ip == "fe80::1"


class _RawSerializer:
    """A msgpack serializer that writes given bytes: a key holder minting any msgpack."""

    id = 2
    name = "msgpack"

    def __init__(self, data: bytes) -> None:
        self.data = data

    def dumps(self, obj: Any, /) -> bytes:
        return self.data

    def loads(self, data: bytes, /) -> dict[str, Any]:
        raise NotImplementedError


@pytest.mark.parametrize(
    "stamp",
    [(1, 0), (1, 2), (2**34, 1)],  # msgpack's three timestamp encodings
)
@pytest.mark.parametrize("where", ["value", "nested"])
def test_msgpack_timestamp_extension_is_a_404(stamp: tuple[int, int], where: str) -> None:
    import msgpack

    value: Any = msgpack.Timestamp(*stamp)
    if where == "nested":
        value = {"a": [1, {"b": value}]}
    data = msgpack.packb(
        {"url": "https://shop.example.com/", "metadata": {"t": value}}, use_bin_type=True
    )
    minter = make_tracker(compressor="none", serializer=_RawSerializer(data))
    path = "/c/" + minter.codec.encode({"unused": 1}, now=NOW)
    endpoint = TrackingEndpoint(make_tracker(compressor="none"))
    response = endpoint.handle(request(path), now=NOW)
    assert response.status == 404
    assert isinstance(response.error, PayloadError)


def test_schema_serializer_refuses_msgpack_timestamps() -> None:
    import msgpack
    from pydantic import BaseModel

    from trackcodec.serializers.schema import SchemaSerializer

    class Meta(BaseModel):
        customer_id: int
        extra: Any = None

    serializer = SchemaSerializer(Meta)
    assert serializer.loads(msgpack.packb(7) + msgpack.packb([1])) == {
        "customer_id": 7,
        "extra": [1],
    }
    for stamp in [(1, 0), (1, 2), (2**34, 1)]:
        data = msgpack.packb(7) + msgpack.packb({"t": msgpack.Timestamp(*stamp)})
        with pytest.raises(ValueError, match="timestamp"):
            serializer.loads(data)


@pytest.mark.parametrize("serializer", ["msgpack", "json"])
def test_minting_a_lone_surrogate_is_an_encode_error(serializer: str) -> None:
    from trackcodec import EncodeError

    tracker = make_tracker(serializer=serializer)
    with pytest.raises(EncodeError):
        tracker.click_url("https://shop.example.com/\udcff")
    with pytest.raises(EncodeError):
        tracker.open_url({"x": "\ud800"})
    with pytest.raises(EncodeError):
        tracker.open_url({"\udbff": 1})
