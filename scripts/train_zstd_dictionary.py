"""Train the built-in zstd dictionary from a generated corpus of tracking payloads.

    python scripts/train_zstd_dictionary.py --check     # compare with the shipped one
    python scripts/train_zstd_dictionary.py --write     # only for a NEW dictionary id

Dictionary 1 ships as ``src/trackcodec/data/zstd_dictionary_1.bin`` and is
frozen: tokens in the wild were compressed with it. This script documents how
it was made and reproduces it byte for byte (``--check``); a better dictionary
goes under a new id, never over an old one.

The corpus (``zstd_corpus.py``) is generated, seeded: URLs with UTM
parameters, the usual metadata keys, webhooks, in the JSON and msgpack
spellings of trackcodec's serializers. It avoids the values of the reference
payloads, so the figures measured on those are not the dictionary reciting
them. The script prints what the dictionary gains on a held-out corpus.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import zstd_corpus

from trackcodec.compressors import DeflateDictCompressor
from trackcodec.serializers import JSONSerializer, MsgpackSerializer
from trackcodec.zstd import ZstdDictCompressor, train_zstd_dictionary

TARGET = Path(__file__).resolve().parent.parent / "src/trackcodec/data/zstd_dictionary_1.bin"
SIZE = 2048
SEED = 1
COUNT = 20000


def samples(count: int, seed: int) -> list[bytes]:
    """The corpus, each payload in both spellings."""
    payloads = zstd_corpus.corpus(count, seed)
    json, msgpack = JSONSerializer(), MsgpackSerializer()
    return [json.dumps(p) for p in payloads] + [msgpack.dumps(p) for p in payloads]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="overwrite the shipped dictionary")
    parser.add_argument("--check", action="store_true", help="fail unless it reproduces")
    args = parser.parse_args()
    trained = train_zstd_dictionary(samples(COUNT, SEED), size=SIZE)
    print(f"trained {len(trained)} bytes, sha256 {hashlib.sha256(trained).hexdigest()}")
    if args.write:
        TARGET.write_bytes(trained)
        print(f"wrote {TARGET}")
    held_out = samples(2000, 99)
    zstd = ZstdDictCompressor()
    deflate = DeflateDictCompressor()
    raw = sum(map(len, held_out))
    for name, compressor in (("zstd-dict", zstd), ("deflate-dict", deflate)):
        size = sum(min(len(compressor.compress(s)), len(s)) for s in held_out)
        print(f"held-out corpus, {name} (shipped): {size} of {raw} bytes ({size / raw:.2f})")
    if args.check and TARGET.read_bytes() != trained:
        print("the shipped dictionary differs from what this script trains", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
