"""Standard Webhooks signatures, made by the ``standardwebhooks`` package."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from trackcodec._deps import require
from trackcodec.errors import ConfigurationError
from trackcodec.event import TrackingEvent

__all__ = ["WebhookSigner", "event_body", "generate_secret"]

_PREFIX = "whsec_"


def generate_secret() -> str:
    """A new random signing secret (32 bytes) in the ``whsec_`` form."""
    return _PREFIX + base64.b64encode(os.urandom(32)).decode("ascii")


def event_body(event: TrackingEvent) -> bytes:
    """The JSON body a webhook carries for ``event`` (Standard Webhooks layout).

    ``{"type": "tracking.open", "timestamp": "<ISO 8601 UTC>", "data": {...}}``
    where ``data`` is the event's JSON form (`TrackingEvent.model_dump`).
    """
    when = datetime.fromtimestamp(event.timestamp, tz=timezone.utc)
    document = {
        "type": f"tracking.{event.kind}",
        "timestamp": when.isoformat().replace("+00:00", "Z"),
        "data": event.model_dump(mode="json"),
    }
    return json.dumps(document, separators=(",", ":")).encode("ascii")


class WebhookSigner:
    """Signs webhook bodies per the Standard Webhooks specification.

    Every secret signs: the ``webhook-signature`` header carries one ``v1,``
    signature per secret, separated by spaces, so a receiver holding any of
    them verifies. Rotate by adding the new secret first, giving it to the
    receivers, then dropping the old one.

    Args:
        secrets: One secret or several, each ``whsec_`` followed by base64
            (`generate_secret` makes one).

    Raises:
        ConfigurationError: No secret, or one not in the ``whsec_`` form.
        MissingDependencyError: ``standardwebhooks`` is not installed.
    """

    def __init__(self, secrets: str | Sequence[str]) -> None:
        module = require(
            "standardwebhooks", package="standardwebhooks", extra="webhooks", feature="webhooks"
        )
        secrets = (secrets,) if isinstance(secrets, str) else tuple(secrets)
        if not secrets:
            raise ConfigurationError("webhook signing needs at least one secret")
        self._webhooks: list[Any] = []
        for secret in secrets:
            if not secret.startswith(_PREFIX):
                raise ConfigurationError("webhook secrets have the form whsec_<base64>")
            try:
                raw = base64.b64decode(secret[len(_PREFIX) :], validate=True)
            except ValueError as exc:
                raise ConfigurationError("webhook secret is not valid base64") from exc
            if len(raw) < 24:
                raise ConfigurationError("webhook secrets must hold at least 24 random bytes")
            self._webhooks.append(module.Webhook(secret))

    def headers(self, msg_id: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
        """The ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` headers.

        Args:
            msg_id: The message id (an event's id), the same on every retry.
            body: The exact bytes that are posted (UTF-8 JSON).
            now: Unix seconds to sign at, instead of the current time (tests).
        """
        stamp = int(time.time() if now is None else now)
        when = datetime.fromtimestamp(stamp, tz=timezone.utc)
        text = body.decode("utf-8")
        signature = " ".join(w.sign(msg_id, when, text) for w in self._webhooks)
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": signature,
        }
