"""Hostile token minters and DNS operators against webhook delivery (the SSRF guard)."""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from endpoint_support import make_tracker
from trackcodec.endpoint import EndpointRequest, TrackingEndpoint
from trackcodec.webhooks import (
    DestinationNotAllowed,
    DestinationPolicy,
    DestinationUnresolvable,
    WebhookClient,
    generate_secret,
)
from webhook_receiver import PUBLIC, Receiver, resolver


# Written without DNS: the system resolver reads each of these as a loopback, private,
# link-local or unspecified address (inet_aton's forms), and so does the connection.
@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://0/",
        "http://0.0.0.0/",
        "http://[::]/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[::127.0.0.1]/",
        "http://[fe80::1%25eth0]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://allowed.example@127.0.0.1/",
        "http://allowed.example:443@127.0.0.1/",
        "http://a@93.184.215.14@127.0.0.1/",
        "http://93.184.215.14\\@127.0.0.1/",
        "http://93.184.215.14;@127.0.0.1/",
        "HTTP://127.0.0.1:6379/",
        "http://\uff11\uff12\uff17.0.0.1/",  # fullwidth digits
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
    ],
)
def test_numeric_and_disguised_private_hosts_are_refused(url: str) -> None:
    with pytest.raises(DestinationNotAllowed):
        DestinationPolicy().check(url)


@pytest.mark.parametrize(
    "address", ["2002:7f00:1::", "2002:a00:1::1", "2002:a9fe:a9fe::", "2002:c0a8:101::"]
)
def test_6to4_addresses_are_judged_by_the_ipv4_address_inside(address: str) -> None:
    with pytest.raises(DestinationNotAllowed):
        DestinationPolicy().check(f"http://[{address}]/")
    with pytest.raises(DestinationNotAllowed):
        DestinationPolicy(resolver=resolver(address)).check("https://hooks.example.com/")
    # A 6to4 address around a public IPv4 address is public.
    DestinationPolicy(resolver=resolver("2002:5db8:d70e::1")).check("https://hooks.example.com/")


def test_one_private_address_among_public_ones_is_refused() -> None:
    for answer in [(PUBLIC, "127.0.0.1"), ("10.0.0.1", PUBLIC), (PUBLIC, "fe80::1%eth0")]:
        with pytest.raises(DestinationNotAllowed):
            DestinationPolicy(resolver=resolver(*answer)).check("https://hooks.example.com/x")


def test_trailing_dot_and_case_hosts_are_resolved_as_written() -> None:
    asked: list[str] = []

    def resolve(host: str, port: int) -> Sequence[str]:
        asked.append(host)
        return ["127.0.0.1"]

    for url in ["https://hooks.example.com./", "https://HOOKS.example.COM/"]:
        with pytest.raises(DestinationNotAllowed):
            DestinationPolicy(resolver=resolve).check(url)
    assert asked == ["hooks.example.com.", "hooks.example.com"]


def test_an_empty_resolver_answer_is_retryable_not_allowed() -> None:
    with pytest.raises(DestinationUnresolvable):
        DestinationPolicy(resolver=lambda host, port: []).check("https://hooks.example.com/")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1\\@93.184.215.14/",
        "http://93.184.215.14#@127.0.0.1/",
        "http://93.184.215.14?@127.0.0.1/",
        "http://127.0.0.1%2f@93.184.215.14/",
        "http://user:pa@ss@93.184.215.14/",
        "http://93.184.215.14/\\@127.0.0.1/",
        "http://127.0.0.1:80\\@93.184.215.14/",
    ],
)
def test_the_guard_and_httpx_read_the_same_host(url: str) -> None:
    # The guard parses with urlsplit, the connection with httpx: where the guard
    # lets a URL through, both must name the same (public) host.
    DestinationPolicy().check(url)
    assert urlsplit(url).hostname == httpx.URL(url).host == "93.184.215.14"


@pytest.mark.parametrize(
    "requested",
    [
        "https://hooks.example.com.evil.example/track",
        "https://hooks.example.com@evil.example/track",
        "https://hooks.example.com/track/../../evil",
        "https://hooks.example.com/track?x=1",
        "https://hooks.example.com/track ",
        "https://HOOKS.example.com/track",
        "http://hooks.example.com/track",
        "https://hooks.example.com:443/track",
    ],
)
def test_allow_list_is_exact(requested: str) -> None:
    policy = DestinationPolicy(
        default_url="https://main.example.com/hook",
        allowed_urls=["https://hooks.example.com/track"],
    )
    assert policy.choose(requested) == "https://main.example.com/hook"


def test_an_unauthenticated_token_cannot_choose_its_webhook() -> None:
    tracker = make_tracker(
        webhook_url="https://main.example.com/hook",
        allowed_webhook_urls=("https://partner.example.net/hook",),
    )
    endpoint = TrackingEndpoint(tracker)
    for webhook in ["http://169.254.169.254/", "https://partner.example.net/hook"]:
        payload = {"url": "https://shop.example.com/", "metadata": {}, "webhook": webhook}
        token = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
        response = endpoint.handle(EndpointRequest("GET", "/c/" + token, {}, "203.0.113.9"))
        assert response.event is not None
        assert response.event.webhook_url == "https://main.example.com/hook"


def test_redirects_are_final_and_never_followed() -> None:
    secret = generate_secret()
    inner = Receiver(secret).start()
    outer = Receiver(secret).start()
    outer.script = lambda n: (307, {"location": inner.url})
    try:
        policy = DestinationPolicy(allow_private_addresses=True)
        with WebhookClient(secret, policy=policy) as client:
            outcome = client.send(outer.url, "msg_1", b"{}")
        assert (outcome.result, outcome.status) == ("failed", 307)
        assert outer.requests == 1
        assert inner.requests == 0
    finally:
        inner.stop()
        outer.stop()


def test_environment_proxies_are_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = generate_secret()
    receiver = Receiver(secret).start()
    proxy = Receiver(secret).start()
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("ALL_PROXY", proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    try:
        policy = DestinationPolicy(allow_private_addresses=True)
        with WebhookClient(secret, policy=policy) as client:
            assert client.send(receiver.url, "msg_1", b"{}").result == "delivered"
        assert proxy.requests == 0
    finally:
        receiver.stop()
        proxy.stop()


def test_corrupt_outbox_rows_are_posted_as_stored_or_kept(tmp_path: Path) -> None:
    import asyncio

    from trackcodec.webhooks import AsyncWebhookClient, Outbox, OutboxWorker

    secret = generate_secret()
    receiver = Receiver(secret).start()
    other = Receiver(secret).start()  # a destination of its own: a retry pauses a destination
    path = tmp_path / "outbox.sqlite3"
    outbox = Outbox(path)
    outbox.add(
        [
            ("evt_json", receiver.url, b"{not json"),
            ("evt_bytes", receiver.url, b"\xff\xfe\x00"),
            ("evt_ctl", other.url, '{"a":"\u2028\\u0000"}'.encode()),
        ],
        now=0,
    )

    async def run() -> None:
        policy = DestinationPolicy(allow_private_addresses=True)
        async with AsyncWebhookClient(secret, policy=policy) as client:
            await OutboxWorker(outbox, client).deliver_due()

    try:
        asyncio.run(run())
        # Valid UTF-8 goes out as stored, signed (this receiver's verify() also parses
        # the JSON, so it cannot answer the row that is not JSON: that one waits).
        assert set(other.delivered) == {"evt_ctl"}
        assert other.bodies["evt_ctl"] == '{"a":"\u2028\\u0000"}'.encode()
        counts = outbox.counts()
        # Rows that cannot be posted or signed are kept for a later look, never lost.
        assert counts["delivered"] == 1
        assert counts["pending"] + counts["failed"] + counts["dead"] == 2
    finally:
        outbox.close()
        receiver.stop()
        other.stop()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM webhook_outbox").fetchone() == (3,)


@pytest.mark.parametrize("value", ["\u00b2", "\u0661\u0662", "1e9", "-5", "9" * 5000, "\x00"])
def test_a_hostile_retry_after_never_breaks_the_attempt(value: str) -> None:
    from trackcodec.webhooks._retry import parse_retry_after

    after = parse_retry_after(value, now=0)
    assert after is None or after >= 0
    if value.isascii() and value.isdigit():
        assert after is not None
    else:
        assert after is None


def test_a_receiver_answering_a_strange_retry_after_gets_a_retry() -> None:
    secret = generate_secret()
    receiver = Receiver(secret).start()
    receiver.script = lambda n: (503, {"retry-after": "\u00b2"})  # latin-1, not a delta
    try:
        policy = DestinationPolicy(allow_private_addresses=True)
        with WebhookClient(secret, policy=policy) as client:
            outcome = client.send(receiver.url, "msg_1", b"{}")
        assert (outcome.result, outcome.status, outcome.retry_after) == ("retry", 503, None)
    finally:
        receiver.stop()
