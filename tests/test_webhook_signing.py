"""Signatures that ``standardwebhooks.Webhook(secret).verify`` accepts, and only untampered."""

from __future__ import annotations

import json
import time

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from trackcodec.errors import ConfigurationError
from trackcodec.event import TrackingEvent, new_event_id
from trackcodec.webhooks import WebhookSigner, event_body, generate_secret

SECRET = generate_secret()


def _event(**changes: object) -> TrackingEvent:
    fields: dict[str, object] = {
        "id": new_event_id(),
        "kind": "click",
        "timestamp": 1_767_225_600.25,
        "tracked_url": "https://shop.example.com/p?id=1",
        "metadata": {"customer_id": 42, "name": "Zoë"},
    }
    fields.update(changes)
    return TrackingEvent.model_validate(fields)


def _signed(secrets: str | list[str] = SECRET) -> tuple[bytes, dict[str, str]]:
    event = _event()
    body = event_body(event)
    return body, WebhookSigner(secrets).headers(event.id, body)


def test_verifies_and_carries_the_event() -> None:
    event = _event()
    body = event_body(event)
    headers = WebhookSigner(SECRET).headers(event.id, body)
    assert headers["webhook-id"] == event.id
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    document = Webhook(SECRET).verify(body, headers)
    assert document["type"] == "tracking.click"
    assert document["timestamp"] == "2026-01-01T00:00:00.250000Z"
    assert TrackingEvent.model_validate(document["data"]) == event
    assert json.loads(body) == document


def test_body_is_ascii_json_whatever_the_metadata() -> None:
    body = event_body(_event(metadata={"emoji": "\U0001f600", "nested": {"a": [1, 2.5, None]}}))
    body.decode("ascii")
    assert json.loads(body)["data"]["metadata"]["emoji"] == "\U0001f600"


def test_every_changed_body_byte_fails() -> None:
    body, headers = _signed()
    webhook = Webhook(SECRET)
    for index in range(len(body)):
        tampered = bytearray(body)
        tampered[index] ^= 0x01
        with pytest.raises(WebhookVerificationError):
            webhook.verify(bytes(tampered), headers, json_parse=False)


@pytest.mark.parametrize("name", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_every_changed_header_byte_fails(name: str) -> None:
    body, headers = _signed()
    webhook = Webhook(SECRET)
    value = headers[name]
    for index in range(len(value)):
        for replacement in {chr(ord(value[index]) ^ 0x01), "0" if value[index] != "0" else "1"}:
            changed = value[:index] + replacement + value[index + 1 :]
            with pytest.raises((WebhookVerificationError, ValueError)):
                webhook.verify(body, {**headers, name: changed}, json_parse=False)
    for missing in (name,):
        with pytest.raises(WebhookVerificationError):
            webhook.verify(body, {k: v for k, v in headers.items() if k != missing})


def test_other_secret_and_old_timestamp_fail() -> None:
    body, headers = _signed()
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(body, headers)
    event = _event()
    old = WebhookSigner(SECRET).headers(event.id, event_body(event), now=time.time() - 3600)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(SECRET).verify(event_body(event), old)


def test_rotation_signs_with_every_secret() -> None:
    old, new = generate_secret(), generate_secret()
    body, headers = _signed([new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert all(sig.startswith("v1,") for sig in headers["webhook-signature"].split(" "))
    for secret in (old, new):
        Webhook(secret).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(body, headers)


def test_signature_is_deterministic_for_a_timestamp() -> None:
    body = b'{"a":1}'
    signer = WebhookSigner(SECRET)
    assert signer.headers("msg_1", body, now=1000) == signer.headers("msg_1", body, now=1000.9)
    assert signer.headers("msg_1", body, now=1000) != signer.headers("msg_1", body, now=1001)


@pytest.mark.parametrize(
    "secrets",
    [[], "secret", "whsec_!!!not-base64", "whsec_" + "QUJD", ["whsec_" + "A" * 44, "nope"]],
)
def test_bad_secrets_are_configuration_errors(secrets: str | list[str]) -> None:
    with pytest.raises(ConfigurationError):
        WebhookSigner(secrets)


def test_generated_secrets_differ_and_have_the_whsec_form() -> None:
    first, second = generate_secret(), generate_secret()
    assert first != second
    assert first.startswith("whsec_")
    WebhookSigner([first, second])
