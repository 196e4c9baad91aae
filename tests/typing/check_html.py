"""Type-checked (not run) usage of `trackcodec.html`: `mypy --strict` keeps it green.

`Tracker` (plain or with a metadata model) and pytracking's compat
configuration must satisfy `TrackerLike` structurally.
"""

from __future__ import annotations

from pydantic import BaseModel
from typing_extensions import assert_type

from trackcodec import KeyRing, Tracker
from trackcodec.compat.pytracking.html import adapt_html
from trackcodec.html import TrackerLike, rewrite_html, rewrite_text


class OrderMeta(BaseModel):
    customer_id: int


def with_trackers(ring: KeyRing) -> None:
    tracker = Tracker(
        base_open_tracking_url="https://t.example.com/o/",
        base_click_tracking_url="https://t.example.com/c/",
        keys=ring,
    )
    assert_type(rewrite_html("<a href='https://a.example/'>a</a>", tracker), str)
    assert_type(rewrite_html(b"<p>bytes</p>", tracker, {"customer_id": 1}, pixel="top"), str)
    assert_type(rewrite_text("https://a.example/", tracker, utm={"utm_source": "x"}), str)
    typed = Tracker(
        base_click_tracking_url="https://t.example.com/c/", keys=ring, metadata_model=OrderMeta
    )
    protocol: TrackerLike = typed
    assert_type(rewrite_html("<p>x</p>", protocol, vml=True, unsubscribe_pattern=None), str)


def with_compat() -> None:
    assert_type(adapt_html("<p>x</p>", {"customer_id": 1}, base_click_tracking_url="x"), str)
