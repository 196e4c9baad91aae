"""Type-checked (not run) usage of the public API: `mypy --strict` keeps it green.

If a change to trackcodec's annotations breaks how users' code type-checks,
CI fails here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from typing_extensions import assert_type

from trackcodec import Codec, KeyRing, TokenInfo, Tracker, TrackingConfig, TrackingResult


class OrderMeta(BaseModel):
    customer_id: int
    order_id: str | None = None


def untyped_tracker(ring: KeyRing) -> None:
    tracker = Tracker(base_click_tracking_url="https://t.example.com/c/", keys=ring)
    assert_type(tracker, Tracker[dict[str, Any]])
    url = tracker.click_url("https://shop.example.com/", {"customer_id": 1})
    assert_type(url, str)
    result = tracker.parse_click(url)
    assert_type(result, TrackingResult[dict[str, Any]])
    assert_type(result.metadata, dict[str, Any])
    assert_type(result.tracked_url, str | None)


def typed_tracker(config: TrackingConfig) -> None:
    tracker = Tracker(config, metadata_model=OrderMeta)
    assert_type(tracker, Tracker[OrderMeta])
    url = tracker.click_url("https://shop.example.com/", OrderMeta(customer_id=1))
    result = tracker.parse(url)
    assert_type(result.metadata, OrderMeta)
    assert_type(result.metadata.customer_id, int)


def codec(ring: KeyRing) -> None:
    c = Codec.default(ring)
    token = c.encode({"customer_id": 1})
    assert_type(token, str)
    assert_type(c.decode(token), dict[str, Any])
    assert_type(c.decode_token(token), TokenInfo)
