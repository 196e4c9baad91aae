"""Shared helpers of the benchmark scripts: reference payloads, events, a fair timer."""

from __future__ import annotations

import binascii
import json
import statistics
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trackcodec.event import TrackingEvent, new_event_id

ROOT = Path(__file__).resolve().parent.parent
# The packaged copy: what `trackcodec bench` measures by default.
PAYLOAD_FILES = (ROOT / "src" / "trackcodec" / "data" / "reference_payloads.json",)
NAMES = ("open", "click", "fat")
OPEN_BASE = "https://t.example.com/o/"
CLICK_BASE = "https://t.example.com/c/"

METHOD = (
    "method: {warmup} warm-up rounds, then {repeats} rounds; each round times {number} calls "
    "of every candidate in turn (round-robin, so machine drift hits all alike); "
    "figures are medians over rounds, per call"
)


def reference_payloads() -> dict[str, dict[str, Any]]:
    """The three reference payloads (open, click, fat)."""
    for path in PAYLOAD_FILES:
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            return {name: data[name] for name in NAMES}
    raise SystemExit("reference_payloads.json not found")


def click_events(n: int) -> list[TrackingEvent]:
    """Click events with the reference click payload's metadata, as an endpoint makes them."""
    click = reference_payloads()["click"]
    now = time.time()
    return [
        TrackingEvent(
            id=new_event_id(),
            kind="click",
            timestamp=now + i * 1e-3,
            tracked_url=click.get("url"),
            metadata=click.get("metadata", {}),
            client_ip="198.51.100.7",
            user_agent="Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15",
        )
        for i in range(n)
    ]


def interleaved_medians(
    candidates: dict[str, Callable[[], object]],
    *,
    number: int,
    repeats: int,
    warmup: int = 2,
) -> dict[str, float]:
    """Median seconds per call of each candidate, timed round-robin."""
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for round_ in range(warmup + repeats):
        for name, func in candidates.items():
            start = time.perf_counter()
            for _ in range(number):
                func()
            elapsed = (time.perf_counter() - start) / number
            if round_ >= warmup:
                samples[name].append(elapsed)
    return {name: statistics.median(values) for name, values in samples.items()}


def _deflate(data: bytes) -> bytes:
    deflater = zlib.compressobj(9, zlib.DEFLATED, -10, 2)
    return deflater.compress(data) + deflater.flush()


class NativeFloor:
    """The library calls a default-settings token needs, with no Python around them.

    msgpack, then raw deflate primed with preset dictionary 1 (as the tracker's
    default ``deflate-dict`` compressor: same parameters, kept only when
    shorter, tried from 8 bytes; ``compressor="deflate"`` for plain raw
    deflate, tried from 64 bytes), then AES-SIV with the 3-byte header as
    associated data, then base64; and the reverse. No checks, no URL, no
    result object: no implementation of these settings in Python can take
    less time, so a target below this floor cannot be met by any code of ours.
    """

    def __init__(self, compressor: str = "deflate-dict") -> None:
        import msgpack
        from cryptography.hazmat.primitives.ciphers.aead import AESSIV

        from trackcodec.compressors import dictionaries

        if compressor not in ("deflate", "deflate-dict"):
            raise ValueError(f"no floor for {compressor!r}")
        self._packb = msgpack.Packer().pack  # reused, as MsgpackSerializer does per thread
        self._unpackb = msgpack.unpackb
        self._aead = AESSIV(AESSIV.generate_key(512))
        self.header = bytes((0x10 | (2 if compressor == "deflate-dict" else 1), 0x22, 0))
        zdict = dictionaries()[1]
        if compressor == "deflate-dict":
            primed = zlib.compressobj(9, zlib.DEFLATED, -11, 2, zdict=zdict)
            self._min_size = 8

            def compress(data: bytes) -> bytes:
                deflater = primed.copy()
                return b"\x01" + deflater.compress(data) + deflater.flush()

            def decompress(data: bytes) -> bytes:
                return zlib.decompressobj(-11, zdict=zdict).decompress(data[1:], 65536)

        else:
            self._min_size = 64
            compress = _deflate

            def decompress(data: bytes) -> bytes:
                return zlib.decompressobj(-10).decompress(data, 65536)

        self._compress = compress
        self._decompress = decompress

    def mint(self, payload: dict[str, Any]) -> bytes:
        """Serialize, compress when shorter, seal and base64-encode ``payload``."""
        data = self._packb(payload)
        if len(data) >= self._min_size:
            packed = self._compress(data)
            if len(packed) < len(data):
                data = packed
        header = self.header
        return binascii.b2a_base64(header + self._aead.encrypt(data, [header]), newline=False)

    def round_trip(self, payload: dict[str, Any]) -> Callable[[], object]:
        """A callable minting ``payload`` and reading it back, native calls only."""
        data = self._packb(payload)
        compressed = len(data) >= self._min_size and len(self._compress(data)) < len(data)
        mint, aead, unpackb, decompress = self.mint, self._aead, self._unpackb, self._decompress

        def run() -> object:
            raw = binascii.a2b_base64(mint(payload))
            data = aead.decrypt(raw[3:], [raw[:3]])
            if compressed:
                data = decompress(data)
            return unpackb(data)

        return run
