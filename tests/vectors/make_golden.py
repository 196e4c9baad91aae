"""Regenerate ``golden_v1.json``, the golden vectors of token format version 1.

Only run this when the token format version changes (and then write a new
``golden_vN.json`` beside the old one, which must keep decoding). A diff in
``golden_v1.json`` means that tokens already sent in emails would stop
decoding or change: that is a bug, not something to regenerate away.

Usage: ``python tests/vectors/make_golden.py [OUTPUT]``.
"""

from __future__ import annotations

import json
import sys
from itertools import product
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from support import (
    DETERMINISTIC_CIPHERS,
    GOLDEN_ENCODE_COMPRESSORS,
    RANDOMIZED_CIPHERS,
    SERIALIZERS,
    fixed_ring,
    load_reference_payloads,
    make_codec,
)
from trackcodec import FORMAT_VERSION

GOLDEN = Path(__file__).resolve().parent / f"golden_v{FORMAT_VERSION}.json"
ISSUED_AT = 1789459200  # 2026-09-15T08:00:00Z
# Covers the non-ASCII, big-integer and float paths of every serializer but schema.
EXTRA_PAYLOAD = {
    "metadata": {"customer_id": 2**70, "campaign": "été-2026 ✓", "score": 0.25, "tags": []},
    "url": "https://exämple.com/p?q=1",
}


def _vector(
    combo: tuple[str, str, str],
    payload_name: str,
    payload: dict[str, Any],
    *,
    mode: str,
    key_id: int = 0,
    issued_at: int | None = None,
) -> dict[str, Any]:
    codec = make_codec(combo, keys=fixed_ring(key_id), timestamp=issued_at is not None)
    serializer, compressor, cipher = combo
    return {
        "mode": mode,
        "serializer": serializer,
        "compressor": compressor,
        "cipher": cipher,
        "key_id": key_id,
        "issued_at": issued_at,
        "payload_name": payload_name,
        "payload": payload,
        "token": codec.encode(payload, now=issued_at),
    }


def build() -> dict[str, Any]:
    """Every vector, freshly encoded."""
    reference = load_reference_payloads()
    vectors = []
    for combo in product(SERIALIZERS, GOLDEN_ENCODE_COMPRESSORS, DETERMINISTIC_CIPHERS):
        for name in ("open", "fat"):
            vectors.append(_vector(combo, name, reference[name], mode="encode"))
    for cipher in DETERMINISTIC_CIPHERS:
        combo = ("msgpack", "deflate", cipher)
        click = reference["click"]
        vectors.append(_vector(combo, "click", click, mode="encode", key_id=7, issued_at=ISSUED_AT))
        vectors.append(_vector(combo, "click", click, mode="encode", key_id=200))
        vectors.append(_vector(combo, "click", click, mode="encode", issued_at=0))
        for serializer in ("json", "msgpack"):
            extra = (serializer, "none", cipher)
            vectors.append(_vector(extra, "extra", EXTRA_PAYLOAD, mode="encode"))
    for serializer, cipher in product(SERIALIZERS, RANDOMIZED_CIPHERS):
        combo = (serializer, "deflate", cipher)
        vectors.append(_vector(combo, "fat", reference["fat"], mode="decode"))
        vectors.append(
            _vector(
                combo, "click", reference["click"], mode="decode", key_id=7, issued_at=ISSUED_AT
            )
        )
    # zstd's output may change with the library version, its format never:
    # decode vectors only (added in trackcodec 0.2, after the ones above).
    for combo in product(SERIALIZERS, ["zstd-dict"], DETERMINISTIC_CIPHERS):
        for name in ("open", "click", "fat"):
            vectors.append(_vector(combo, name, reference[name], mode="decode"))
    vectors.append(
        _vector(("json", "zstd-dict", "hmac"), "extra", EXTRA_PAYLOAD, mode="decode", key_id=7)
    )
    return {
        "_about": __doc__.strip().splitlines()[0]
        + " Key ring: 'keys'; 'encode' vectors must encode to 'token' exactly,"
        " 'decode' vectors (randomized ciphers) must decode to 'payload'."
        " The schema serializer uses the model tests/support.py:Payload.",
        "format_version": FORMAT_VERSION,
        "keys": fixed_ring().to_string(),
        "vectors": vectors,
    }


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else GOLDEN
    out.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
