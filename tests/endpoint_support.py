"""Shared pieces of the serving tests: a tracker, its URLs as paths, the bad requests.

Every framework test sends the same bad inputs (`bad_paths`) through its own
test client, so that each adapter is held to what the endpoint core promises.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import pytracking

from support import fixed_ring
from trackcodec import KeyRing, Tracker, TrackingEvent

BASE = "https://t.example.com"
OPEN_BASE = f"{BASE}/o/"
CLICK_BASE = f"{BASE}/c/"
TARGET = "https://shop.example.com/p/42?utm_source=mail"
FALLBACK = "https://www.example.com/oops"
PLAIN_BASE = f"{BASE}/legacy/"


def make_tracker(**overrides: Any) -> Tracker[dict[str, Any]]:
    """A tracker on the fixed key ring, /o/ and /c/ base URLs, reading plain legacy links."""
    settings: dict[str, Any] = {
        "base_open_tracking_url": OPEN_BASE,
        "base_click_tracking_url": CLICK_BASE,
        "keys": fixed_ring(),
        "timestamp": True,
        # pytracking's plain links, so that the redirect policy meets javascript: targets.
        "accept_legacy": "plain",
    }
    settings.update(overrides)
    return Tracker(**settings)


def path_of(url: str) -> str:
    """The path (and query) of a tracking URL, as a request line carries it."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def legacy_plain_click(target: str) -> str:
    """A pytracking (0.2, plain) click URL to ``target``, minted by pytracking itself."""
    url: str = pytracking.get_click_tracking_url(
        target, {"customer_id": 1}, base_click_tracking_url=CLICK_BASE
    )
    return url


def bad_paths(tracker: Tracker[Any], *, now: float) -> dict[str, str]:
    """Request paths that must never get a pixel, a redirect or a 500: name -> path."""
    open_token = path_of(tracker.open_url({"customer_id": 1}, now=now)).rsplit("/", 1)[1]
    click_token = path_of(tracker.click_url(TARGET, {"customer_id": 1}, now=now)).rsplit("/", 1)[1]
    other = Tracker(
        base_open_tracking_url=OPEN_BASE,
        base_click_tracking_url=CLICK_BASE,
        keys=KeyRing.generate(),
    )
    other_click = path_of(other.click_url(TARGET, now=now)).rsplit("/", 1)[1]
    return {
        "garbage-open": "/o/not-a-token",
        "garbage-click": "/c/%00%ff<script>",
        "empty-open": "/o/",
        "truncated-open": "/o/" + open_token[:-3],
        "truncated-click": "/c/" + click_token[: len(click_token) // 2],
        "other-key-click": "/c/" + other_click,
        "open-token-on-click-route": "/c/" + open_token,
        "click-token-on-open-route": "/o/" + click_token,
        "oversized-open": "/o/" + "A" * 20_000,
        "oversized-click": "/c/" + "eyJ" * 7_000,
        "javascript-legacy-click": path_of(legacy_plain_click("javascript:alert(1)")),
        "data-legacy-click": path_of(legacy_plain_click("data:text/html,<script>x</script>")),
    }


class ListSink:
    """An `EventSink` that keeps the events in a list (``fail=True``: raises instead)."""

    durable = False

    def __init__(self, *, fail: bool = False) -> None:
        self.events: list[TrackingEvent] = []
        self.fail = fail
        self.closed = False

    def emit(self, events: Sequence[TrackingEvent], /) -> None:
        if self.fail:
            raise RuntimeError("storage is down")
        self.events.extend(events)

    def close(self) -> None:
        self.closed = True
