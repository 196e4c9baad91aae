"""Token lengths on the reference payloads: trackcodec next to pytracking 0.2.x.

Run: python benchmarks/token_length.py
"""

from __future__ import annotations

import pytracking
from cryptography.fernet import Fernet

from _common import CLICK_BASE, NAMES, OPEN_BASE, reference_payloads
from trackcodec import Codec, KeyRing, Tracker
from trackcodec.bench import derive_metadata_model


def pytracking_token(payload: dict[str, object], key: bytes | None) -> str:
    config = pytracking.Configuration(
        base_open_tracking_url=OPEN_BASE,
        base_click_tracking_url=CLICK_BASE,
        encryption_bytestring_key=key,
        webhook_url=payload.get("webhook"),
        include_webhook_url="webhook" in payload,
    )
    if "url" in payload:
        url = pytracking.get_click_tracking_url(
            payload["url"], payload["metadata"], configuration=config
        )
        return url[len(CLICK_BASE) :]
    url = pytracking.get_open_tracking_url(payload["metadata"], configuration=config)
    return url[len(OPEN_BASE) :]


def main() -> None:
    payloads = reference_payloads()
    ring = KeyRing.generate()
    # The schema serializer's layout: the metadata model the bench harness infers
    # from the payloads, wrapped in the tracking payload (metadata, url, webhook).
    meta = derive_metadata_model(payloads.values())

    def schema_codec(compressor: str) -> Codec:
        return Tracker(
            keys=ring, serializer="schema", compressor=compressor, metadata_model=meta
        ).codec

    codecs = {
        "trackcodec default (msgpack + deflate + aes-siv)": Codec.default(ring),
        "trackcodec schema + deflate + aes-siv": schema_codec("deflate"),
        "trackcodec msgpack + deflate-dict + aes-siv": Codec.from_names(
            compressor="deflate-dict", keys=ring
        ),
        "trackcodec schema + deflate-dict + aes-siv": schema_codec("deflate-dict"),
        "trackcodec msgpack + deflate + hmac (sign only)": Codec.from_names(
            cipher="hmac", keys=ring
        ),
    }
    rows: list[tuple[str, list[int]]] = [
        ("pytracking plain (forgeable)", [len(pytracking_token(payloads[n], None)) for n in NAMES]),
        (
            "pytracking Fernet",
            [len(pytracking_token(payloads[n], Fernet.generate_key())) for n in NAMES],
        ),
    ]
    for label, codec in codecs.items():
        lengths = []
        for name in NAMES:
            token = codec.encode(payloads[name])
            assert codec.decode(token) == payloads[name]
            lengths.append(len(token))
        rows.append((label, lengths))

    fernet = rows[1][1]
    width = max(len(label) for label, _ in rows)
    print("Token length in characters on the reference payloads (lower is better)")
    print(f"{'':{width}}  {'open':>6} {'click':>6} {'fat':>6}   vs pytracking Fernet")
    for label, lengths in rows:
        cells = " ".join(f"{n:>6}" for n in lengths)
        ratios = " ".join(f"{n / f:.2f}" for n, f in zip(lengths, fernet, strict=True))
        print(f"{label:{width}}  {cells}   {ratios}")


if __name__ == "__main__":
    main()
