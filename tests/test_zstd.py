"""The zstd-dict compressor: its compact frames, dictionaries, limits and hostile input.

The codec contract, golden vectors, tamper, limits and fuzz suites run across
zstd-dict too (``support.COMPRESSORS``); this file covers what is its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from support import Combo, fixed_ring, load_reference_payloads, make_codec
from trackcodec import (
    Codec,
    ConfigurationError,
    InvalidToken,
    JSONSerializer,
    LimitExceeded,
    MalformedToken,
    MsgpackSerializer,
    TokenHeader,
)
from trackcodec import zstd as tzstd
from trackcodec.zstd import (
    ZstdDictCompressor,
    register_zstd_dictionary,
    train_zstd_dictionary,
    zstd_dictionaries,
)

ZSTD = ZstdDictCompressor()
REPO = Path(__file__).resolve().parent.parent
# Dictionary 1 is persisted format: tokens in emails were compressed with it.
DICTIONARY_1_SHA256 = "1ad4be25eaa9b450247508d3fa6e8e85e74bf5c2cfe832a4bcb6136fc1f5cdf4"


@pytest.fixture(autouse=True)
def _isolated_dictionaries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dictionaries registered by a test are forgotten after it."""
    monkeypatch.setattr(tzstd, "_registered", dict(tzstd._registered))
    monkeypatch.setattr(tzstd, "_digested", dict(tzstd._digested))


def _library() -> Any:
    return tzstd._zstd()


def _frame(data: bytes, **options: Any) -> bytes:
    """A full zstd frame of ``data`` with dictionary 1, made by the library directly."""
    zstd = _library()
    parameters = {zstd.CompressionParameter[k]: v for k, v in options.items()}
    return bytes(zstd.compress(data, options=parameters, zstd_dict=tzstd._dictionary(1)))


# -- the dictionary -------------------------------------------------------------------


def test_the_built_in_dictionary_is_frozen() -> None:
    data = zstd_dictionaries()[1]
    assert hashlib.sha256(data).hexdigest() == DICTIONARY_1_SHA256
    assert len(data) == 2048


def test_the_training_script_documents_the_built_in_dictionary() -> None:
    # It retrains from its seeded corpus and finds the shipped bytes again
    # (with the zstd it was trained with: another version may train otherwise).
    if tuple(_library().zstd_version_info) != (1, 5, 7):
        pytest.skip("dictionary 1 was trained with zstd 1.5.7")
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import train_zstd_dictionary as script
    finally:
        sys.path.pop(0)
    trained = train_zstd_dictionary(script.samples(script.COUNT, script.SEED), size=script.SIZE)
    assert hashlib.sha256(trained).hexdigest() == DICTIONARY_1_SHA256


def test_the_corpus_avoids_the_reference_values() -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import zstd_corpus
    finally:
        sys.path.pop(0)
    text = json.dumps(zstd_corpus.corpus(2000, 1))
    for value in ("shop.example.com", "fall-2026", "m-20260915-000123", "hero-banner", "123456"):
        assert value not in text


# -- round trips ----------------------------------------------------------------------


@settings(max_examples=300)
@given(st.binary(max_size=3000))
@example(b"")
@example(b"\x00" * 5000)  # one repeated byte: zstd writes an RLE block
@example(bytes(range(256)) * 600)  # over 128 KiB: several blocks
def test_round_trip(data: bytes) -> None:
    packed = ZSTD.compress(data)
    assert packed[0] == 1
    assert ZSTD.decompress(packed, max_size=max(len(data), 1)) == data


def test_compact_frames_leave_out_what_never_varies() -> None:
    payload = MsgpackSerializer().dumps(load_reference_payloads()["click"])
    packed = ZSTD.compress(payload)
    full = _frame(
        payload,
        compression_level=ZSTD.level,
        window_log=17,
        content_size_flag=0,
        checksum_flag=0,
        dict_id_flag=0,
    )
    # magic (4), descriptor (1) and the block header (3) go; a dictionary id comes.
    assert full.startswith(b"\x28\xb5\x2f\xfd\x00")
    assert len(packed) == len(full) - 4 - 1 - 3 + 1
    assert packed[2:] == full[9:]


def test_reference_payloads_shrink() -> None:
    for serializer in (JSONSerializer(), MsgpackSerializer()):
        for payload in load_reference_payloads().values():
            data = serializer.dumps(payload)
            assert len(ZSTD.compress(data)) < len(data) * 0.75


@pytest.mark.parametrize("level", [1, 3, 19])
def test_levels(level: int) -> None:
    compressor = ZstdDictCompressor(level=level)
    data = json.dumps(load_reference_payloads()["fat"]).encode()
    assert ZSTD.decompress(compressor.compress(data), max_size=4096) == data


@pytest.mark.parametrize("level", [0, 23])
def test_bad_level(level: int) -> None:
    with pytest.raises(ConfigurationError):
        ZstdDictCompressor(level=level)


def test_threads_share_a_compressor() -> None:
    payloads = [json.dumps({"url": f"https://x.example/{i}", "n": i}).encode() for i in range(200)]
    expected = [ZSTD.compress(p) for p in payloads]
    results: list[list[bytes]] = []

    def work() -> None:
        results.append([ZSTD.compress(p) for p in payloads * 5][:200])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 4
    assert [ZSTD.decompress(p, max_size=1000) for p in expected] == payloads


# -- hostile input --------------------------------------------------------------------


def test_size_limit() -> None:
    data = b"x" * 100_000
    packed = ZSTD.compress(data)
    assert len(packed) < 100
    assert ZSTD.decompress(packed, max_size=100_000) == data
    with pytest.raises(LimitExceeded, match="99999"):
        ZSTD.decompress(packed, max_size=99_999)
    with pytest.raises(LimitExceeded):
        ZSTD.decompress(packed, max_size=1)


def test_a_frame_asking_for_a_huge_window_is_refused() -> None:
    # A frame made elsewhere can claim a window of up to 2 TiB; more than
    # 128 KiB is never reserved. (Streamed, so zstd does not shrink the window.)
    zstd = _library()
    parameter = zstd.CompressionParameter
    options = {parameter.window_log: 27, parameter.checksum_flag: 0, parameter.dict_id_flag: 0}
    compressor = zstd.ZstdCompressor(options=options, zstd_dict=tzstd._dictionary(1))
    frame = compressor.compress(bytes(range(256)) * 64) + compressor.flush()
    assert frame[4] == 0
    assert frame[5] >> 3 == 27 - 10
    with pytest.raises(MalformedToken):
        ZSTD.decompress(b"\x01" + frame[5:], max_size=1 << 20)
    exponent_31 = bytes((0b11111000 | 0b011,))  # one compressed block
    with pytest.raises(MalformedToken):
        ZSTD.decompress(b"\x01" + exponent_31 + frame[9:], max_size=1 << 20)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", MalformedToken),
        (b"\x01", MalformedToken),
        (b"\x02\x00", MalformedToken),  # no such dictionary
        (b"\x01\x04abc", MalformedToken),  # unknown flags
        (b"\x01\x00", MalformedToken),  # no block at all
        (b"\x01\x00\x01\x00", MalformedToken),  # a block header cut short
    ],
)
def test_corrupt_frames(data: bytes, error: type[InvalidToken]) -> None:
    with pytest.raises(error):
        ZSTD.decompress(data, max_size=1000)
    assert ZSTD.decompress(b"\x01\x00\x01\x00\x00", max_size=10) == b""  # one empty block


def test_trailing_bytes_and_truncation() -> None:
    data = json.dumps(load_reference_payloads()["fat"]).encode()
    packed = ZSTD.compress(data)
    several = ZSTD.compress(bytes(range(256)) * 600)
    for body in (packed, several):
        for cut in range(1, len(body)):
            try:
                out = ZSTD.decompress(body[:cut], max_size=1 << 20)
            except InvalidToken:
                continue
            assert out != data  # a shorter one-block frame may decode, never to the same
    with pytest.raises(MalformedToken):
        ZSTD.decompress(several + b"\x00", max_size=1 << 20)


@settings(max_examples=2000)
@given(st.binary(max_size=300), st.integers(1, 5000))
@example(b"\x01\x01" + b"\xff" * 50, 100)
@example(b"\x01\x00" + b"\xff\xff\xff" + b"\x00" * 20, 100)
def test_random_bodies_raise_invalid_token_only(data: bytes, max_size: int) -> None:
    try:
        out = ZSTD.decompress(b"\x01" + data, max_size=max_size)
    except InvalidToken:
        return
    assert len(out) <= max_size


@settings(max_examples=300)
@given(st.data())
def test_every_byte_of_a_real_body_mutated(data: st.DataObject) -> None:
    body = bytearray(ZSTD.compress(json.dumps(load_reference_payloads()["fat"]).encode()))
    index = data.draw(st.integers(0, len(body) - 1))
    body[index] = data.draw(st.integers(0, 255))
    with contextlib.suppress(InvalidToken):
        ZSTD.decompress(bytes(body), max_size=1000)


# -- your own dictionaries ------------------------------------------------------------


def _samples() -> list[bytes]:
    serializer = MsgpackSerializer()
    return [
        serializer.dumps(
            {
                "url": f"https://newsletter.example.org/issue/{i}?utm_source=digest",
                "metadata": {"subscriber": i * 7919 % 100_000, "edition": f"digest-{i % 40}"},
            }
        )
        for i in range(2000)
    ]


def test_train_and_register_a_dictionary() -> None:
    samples = _samples()
    mine = train_zstd_dictionary(samples, size=1024)
    assert len(mine) <= 1024
    register_zstd_dictionary(200, mine)
    register_zstd_dictionary(200, mine)  # the same again is fine
    compressor = ZstdDictCompressor(dictionary_id=200)
    sample = samples[1234]
    packed = compressor.compress(sample)
    assert packed[0] == 200
    assert len(packed) < len(ZSTD.compress(sample))
    # Any zstd-dict compressor decodes it: the dictionary id travels in the body.
    assert ZSTD.decompress(packed, max_size=1000) == sample
    codec = Codec(keys=fixed_ring(), serializer=MsgpackSerializer(), compressor=compressor)
    payload = MsgpackSerializer().loads(sample)
    token = codec.encode(payload)
    assert TokenHeader.parse(token).compressor_id == 3
    assert make_codec(Combo("json", "zstd-dict", "aes-siv")).decode(token) == payload


@pytest.mark.parametrize(
    ("dictionary_id", "data", "field"),
    [
        (1, b"\x37\xa4\x30\xec" + bytes(100), "dictionary_id"),
        (127, b"\x37\xa4\x30\xec" + bytes(100), "dictionary_id"),
        (256, b"\x37\xa4\x30\xec" + bytes(100), "dictionary_id"),
        (200, b"", "data"),
        (200, b"not a dictionary at all", "data"),
        (200, b"\x37\xa4\x30\xec" + bytes(70_000), "data"),
    ],
)
def test_register_errors(dictionary_id: int, data: bytes, field: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        register_zstd_dictionary(dictionary_id, data)
    assert caught.value.field == field


def test_a_dictionary_cannot_change() -> None:
    samples = _samples()
    register_zstd_dictionary(201, train_zstd_dictionary(samples, size=1024))
    with pytest.raises(ConfigurationError, match="already registered"):
        register_zstd_dictionary(201, train_zstd_dictionary(samples[:1000], size=512))


def test_unknown_dictionary() -> None:
    with pytest.raises(ConfigurationError, match="no zstd dictionary 222"):
        ZstdDictCompressor(dictionary_id=222)


@pytest.mark.parametrize(
    ("size", "count", "message"), [(100, 2000, "256 to 65536"), (1024, 3, "at least 8")]
)
def test_training_errors(size: int, count: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        train_zstd_dictionary(_samples()[:count], size=size)
