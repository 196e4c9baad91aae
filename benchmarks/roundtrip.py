"""Public-API round trip: build a tracking URL and parse it back, trackcodec vs pytracking.

trackcodec: `Tracker.click_url` + `Tracker.parse_click` (`open_url` + `parse_open` for
the open payload) with default settings (msgpack + deflate-dict + AES-SIV).
pytracking 0.2.x: `get_click_tracking_url` + `get_click_tracking_result` (open
equivalents for the open payload) with a Fernet key, as its docs recommend.

Run: python benchmarks/roundtrip.py [--repeats N]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import pytracking
from cryptography.fernet import Fernet

from _common import (
    CLICK_BASE,
    METHOD,
    NAMES,
    OPEN_BASE,
    NativeFloor,
    interleaved_medians,
    reference_payloads,
)
from trackcodec import KeyRing, Tracker


def default_tracker(payload: dict[str, Any], **settings: Any) -> Tracker[dict[str, Any]]:
    """A tracker with default settings (but ``settings``), and this payload's webhook if any."""
    return Tracker(
        base_open_tracking_url=OPEN_BASE,
        base_click_tracking_url=CLICK_BASE,
        keys=KeyRing.generate(),
        webhook_url=payload.get("webhook"),
        include_webhook_url="webhook" in payload,
        **settings,
    )


def trackcodec_round_trip(
    payload: dict[str, Any], tracker: Tracker[dict[str, Any]] | None = None
) -> Callable[[], object]:
    """Build the payload's URL with ``tracker`` (a default one when omitted) and parse it."""
    tracker = tracker or default_tracker(payload)
    metadata = payload["metadata"]
    if "url" in payload:
        url = payload["url"]
        return lambda: tracker.parse_click(tracker.click_url(url, metadata))
    return lambda: tracker.parse_open(tracker.open_url(metadata))


def floor_round_trip(floor: NativeFloor, payload: dict[str, Any]) -> Callable[[], object]:
    """The native floor of what `trackcodec_round_trip` does, on the same token payload."""
    tracker = default_tracker(payload)
    return floor.round_trip(tracker.payload(payload.get("url"), payload["metadata"]))


def pytracking_round_trip(payload: dict[str, Any]) -> Callable[[], object]:
    config = pytracking.Configuration(
        base_open_tracking_url=OPEN_BASE,
        base_click_tracking_url=CLICK_BASE,
        encryption_bytestring_key=Fernet.generate_key(),
        webhook_url=payload.get("webhook"),
        include_webhook_url="webhook" in payload,
    )
    metadata = payload["metadata"]
    if "url" in payload:
        url = payload["url"]
        return lambda: pytracking.get_click_tracking_result(
            pytracking.get_click_tracking_url(url, metadata, configuration=config),
            configuration=config,
        )
    return lambda: pytracking.get_open_tracking_result(
        pytracking.get_open_tracking_url(metadata, configuration=config), configuration=config
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--number", type=int, default=300)
    args = parser.parse_args()

    payloads = reference_payloads()
    floor = NativeFloor()
    candidates: dict[str, Callable[[], object]] = {}
    for name in NAMES:
        candidates[f"trackcodec {name}"] = trackcodec_round_trip(payloads[name])
        candidates[f"pytracking {name}"] = pytracking_round_trip(payloads[name])
        candidates[f"floor {name}"] = floor_round_trip(floor, payloads[name])
    medians = interleaved_medians(candidates, number=args.number, repeats=args.repeats)

    print("Public-API round trip (build URL + parse it), microseconds per call")
    print(METHOD.format(warmup=2, repeats=args.repeats, number=args.number))
    print(
        f"{'payload':<8} {'trackcodec':>11} {'pytracking Fernet':>18} {'ratio':>7}"
        f" {'floor':>7} {'floor ratio':>12} {'trackcodec / floor':>19}"
    )
    for name in NAMES:
        ours = medians[f"trackcodec {name}"] * 1e6
        theirs = medians[f"pytracking {name}"] * 1e6
        least = medians[f"floor {name}"] * 1e6
        print(
            f"{name:<8} {ours:>11.1f} {theirs:>18.1f} {ours / theirs:>7.3f} {least:>7.1f}"
            f" {least / theirs:>12.3f} {ours / least:>18.2f}x"
        )
    print(
        "ratio: trackcodec / pytracking + Fernet (goals: docs/concepts/performance.md);"
        " floor: the native calls alone of the same round trip (msgpack, deflate with the"
        " preset dictionary when shorter, AES-SIV, base64 and back), no Python around them"
    )


if __name__ == "__main__":
    main()
