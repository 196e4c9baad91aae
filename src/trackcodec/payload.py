"""The tracking payload: what a tracking token carries, ``{url, metadata, webhook}``.

Every part is optional: a click token has a ``url`` (its target), an open
token has none; ``metadata`` is the caller's mapping; ``webhook`` is there
only when the tracker puts its webhook URL in tokens. The `Tracker`, the
benchmark harness, the CLI and the benchmark scripts all read and write this
layout through this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, create_model

from trackcodec.errors import PayloadError

__all__ = ["PAYLOAD_KEYS", "check_layout", "make_payload", "payload_model", "split_payload"]

PAYLOAD_KEYS = frozenset({"url", "metadata", "webhook"})


def make_payload(
    url: str | None, metadata: Mapping[str, Any] | None, webhook: str | None
) -> dict[str, Any]:
    """The payload of a token: the parts that are set, in the wire order of the JSON layout.

    Empty metadata is left out (it costs bytes and decodes the same).
    """
    data: dict[str, Any] = {}
    if url is not None:
        data["url"] = url
    if metadata:
        data["metadata"] = metadata
    if webhook is not None:
        data["webhook"] = webhook
    return data


def split_payload(data: Mapping[str, Any]) -> tuple[str | None, dict[str, Any] | None, str | None]:
    """The ``(url, metadata, webhook)`` of a decoded payload.

    Raises:
        PayloadError: The payload does not have the tracking layout (the
            message names the part, never its value).
    """
    url = data.get("url")
    metadata = data.get("metadata")
    webhook = data.get("webhook")
    if not (url is None or type(url) is str):
        raise PayloadError("token payload does not have the tracking layout: 'url' is not a str")
    if not (metadata is None or type(metadata) is dict):
        raise PayloadError(
            "token payload does not have the tracking layout: 'metadata' is not a mapping"
        )
    if not (webhook is None or type(webhook) is str):
        raise PayloadError(
            "token payload does not have the tracking layout: 'webhook' is not a str"
        )
    return url, metadata, webhook


def check_layout(obj: Any) -> dict[str, Any]:
    """Return ``obj`` without its ``None`` parts if it is a payload in the tracking layout.

    For payloads a user writes (JSON given to ``trackcodec encode`` or ``bench``).

    Raises:
        ValueError: It is not, saying which part is wrong.
    """
    if not isinstance(obj, dict):
        raise ValueError(f"a payload is a JSON object, not {type(obj).__name__}")
    unknown = sorted(obj.keys() - PAYLOAD_KEYS)
    if unknown:
        raise ValueError(
            f"unknown key {unknown[0]!r}; a payload has only 'url', 'metadata' and "
            "'webhook' (put your own fields under 'metadata')"
        )
    for key in ("url", "webhook"):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            raise ValueError(f"{key!r} must be a string")
    if obj.get("metadata") is not None and not isinstance(obj["metadata"], dict):
        raise ValueError("'metadata' must be an object")
    return {k: v for k, v in obj.items() if v is not None}


def payload_model(metadata_model: type[Any] | None) -> type[BaseModel]:
    """The positional layout of a tracking payload for the ``schema`` serializer.

    Metadata first, then url and webhook: the field order is the wire order.
    """
    meta: Any = metadata_model if metadata_model is not None else dict[str, Any]
    return create_model(
        "TrackingPayload",
        metadata=(meta | None, None),
        url=(str | None, None),
        webhook=(str | None, None),
    )
