"""Where webhooks may go: the allow-list, http(s) only, no private addresses after DNS."""

from __future__ import annotations

import pytest

from trackcodec.config import TrackingConfig
from trackcodec.webhooks import (
    DestinationNotAllowed,
    DestinationPolicy,
    DestinationUnresolvable,
    WebhookClient,
    generate_secret,
)
from webhook_receiver import PUBLIC, Receiver, resolver


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/x",
        "file:///etc/passwd",
        "gopher://hooks.example.com/",
        "javascript:alert(1)",
        "//hooks.example.com/x",
        "hooks.example.com/x",
        "http:///nohost",
        "http://hooks.example.com:99999/",
    ],
)
def test_non_http_targets_are_refused(url: str) -> None:
    policy = DestinationPolicy(resolver=resolver(PUBLIC), allow_private_addresses=True)
    with pytest.raises(DestinationNotAllowed) as info:
        policy.check(url)
    assert info.value.url == url
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),  # noqa: S104
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "not a public"),
    ],
)
def test_non_public_addresses_are_refused_after_resolution(address: str, why: str) -> None:
    policy = DestinationPolicy(resolver=resolver(PUBLIC, address))
    with pytest.raises(DestinationNotAllowed, match=why) as info:
        policy.check("https://hooks.example.com/x")
    assert address.split(":")[-1] in info.value.reason
    # The same address written in the URL is refused without resolving.
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(DestinationNotAllowed, match=why):
        DestinationPolicy(resolver=resolver()).check(f"http://{host}:8080/x")
    # Allowed explicitly: accepted.
    DestinationPolicy(resolver=resolver(address), allow_private_addresses=True).check(
        "https://hooks.example.com/x"
    )


def test_public_addresses_pass_and_unresolvable_hosts_are_retryable() -> None:
    DestinationPolicy(resolver=resolver(PUBLIC, "2606:2800:21f:cb07:6820:80da:af6b:8b2c")).check(
        "https://hooks.example.com/x"
    )
    with pytest.raises(DestinationUnresolvable):
        DestinationPolicy(resolver=resolver()).check("https://nowhere.invalid/x")


def test_localhost_resolves_to_loopback_with_the_system_resolver() -> None:
    with pytest.raises(DestinationNotAllowed, match="loopback"):
        DestinationPolicy().check("http://localhost:1/")


def test_allow_list_chooses_the_destination() -> None:
    policy = DestinationPolicy(
        default_url="https://hooks.example.com/main",
        allowed_urls=["https://partner.example.net/hook"],
    )
    assert policy.choose(None) == "https://hooks.example.com/main"
    assert policy.choose("https://partner.example.net/hook") == "https://partner.example.net/hook"
    assert policy.choose("https://hooks.example.com/main") == "https://hooks.example.com/main"
    assert policy.choose("https://attacker.example.org/") == "https://hooks.example.com/main"
    assert policy.choose("https://partner.example.net/hook/") == "https://hooks.example.com/main"
    assert DestinationPolicy().choose("https://partner.example.net/hook") is None


def test_from_config_uses_the_tracking_allow_list() -> None:
    config = TrackingConfig(
        webhook_url="https://hooks.example.com/main",
        allowed_webhook_urls=("https://partner.example.net/hook",),
    )
    policy = DestinationPolicy.from_config(config)
    assert policy.allowed_urls == {
        "https://hooks.example.com/main",
        "https://partner.example.net/hook",
    }
    assert not policy.allow_private_addresses


def test_allowed_urls_must_be_http() -> None:
    with pytest.raises(DestinationNotAllowed):
        DestinationPolicy(allowed_urls=["ftp://files.example.com/"])
    with pytest.raises(DestinationNotAllowed):
        DestinationPolicy(default_url="file:///tmp/x")


def test_client_refuses_loopback_before_connecting() -> None:
    secret = generate_secret()
    receiver = Receiver(secret).start()
    try:
        with WebhookClient(secret) as client:
            outcome = client.send(receiver.url, "msg_1", b"{}")
        assert outcome.result == "failed"
        assert outcome.error is not None
        assert "loopback" in outcome.error
        assert receiver.requests == 0
        policy = DestinationPolicy(allow_private_addresses=True)
        with WebhookClient(secret, policy=policy) as client:
            assert client.send(receiver.url, "msg_1", b"{}").result == "delivered"
        assert receiver.delivered == {"msg_1": 1}
    finally:
        receiver.stop()
