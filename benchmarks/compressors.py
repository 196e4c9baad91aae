"""The tracker's compressor, measured: none, deflate, deflate-dict and zstd-dict side by side.

For each compressor, with msgpack + AES-SIV (the tracker's other defaults):
token length on the reference payloads, and the public-API round trip
(`Tracker.click_url` + `parse_click`, open equivalents for the open payload)
next to pytracking 0.2.x + Fernet in the same run (ratios). The default
compressor of `TrackingConfig` was chosen from this table
(docs/choosing-settings.md says why).

Run: python benchmarks/compressors.py [--repeats N]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from _common import CLICK_BASE, METHOD, NAMES, OPEN_BASE, interleaved_medians, reference_payloads
from roundtrip import default_tracker, pytracking_round_trip, trackcodec_round_trip
from trackcodec import Tracker

COMPRESSORS = ("none", "deflate", "deflate-dict", "zstd-dict")


def token(payload: dict[str, Any], t: Tracker[dict[str, Any]]) -> str:
    if "url" in payload:
        return t.click_url(payload["url"], payload["metadata"])[len(CLICK_BASE) :]
    return t.open_url(payload["metadata"])[len(OPEN_BASE) :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--number", type=int, default=300)
    args = parser.parse_args()

    payloads = reference_payloads()
    candidates: dict[str, Callable[[], object]] = {}
    lengths: dict[str, list[int]] = {}
    for compressor in COMPRESSORS:
        lengths[compressor] = []
        for name in NAMES:
            t = default_tracker(payloads[name], compressor=compressor)
            lengths[compressor].append(len(token(payloads[name], t)))
            candidates[f"{compressor} {name}"] = trackcodec_round_trip(payloads[name], t)
    for name in NAMES:
        candidates[f"pytracking {name}"] = pytracking_round_trip(payloads[name])
    medians = interleaved_medians(candidates, number=args.number, repeats=args.repeats)

    print("Tracker compressor (msgpack + AES-SIV): token characters, and round-trip µs per call")
    print("(click_url + parse_click; open_url + parse_open for open) with its ratio to")
    print("pytracking + Fernet measured in the same run")
    print(METHOD.format(warmup=2, repeats=args.repeats, number=args.number))
    head = "".join(f" {n + ' chars':>11}" for n in NAMES) + "".join(
        f" {n + ' µs':>9} {'ratio':>6}" for n in NAMES
    )
    print(f"{'compressor':<18}{head}")
    theirs = {name: medians[f"pytracking {name}"] for name in NAMES}
    for compressor in COMPRESSORS:
        row = "".join(f" {n:>11}" for n in lengths[compressor])
        for name in NAMES:
            ours = medians[f"{compressor} {name}"]
            row += f" {ours * 1e6:>9.1f} {ours / theirs[name]:>6.3f}"
        print(f"{compressor:<18}{row}")
    row = " " * 36 + "".join(f" {theirs[n] * 1e6:>9.1f} {1:>6.3f}" for n in NAMES)
    print(f"{'pytracking Fernet':<18}{row}")


if __name__ == "__main__":
    main()
