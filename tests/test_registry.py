"""The registry of backend names and ids, and registering backends of your own."""

from __future__ import annotations

import hmac
import zlib
from collections.abc import Mapping
from typing import Any

import pytest

from support import (
    CIPHER_IDS,
    CIPHERS,
    COMPRESSOR_IDS,
    COMPRESSORS,
    SERIALIZER_IDS,
    SERIALIZERS,
    Payload,
    fixed_ring,
    make_codec,
)
from trackcodec import (
    AESSIVCipher,
    BadSignature,
    Codec,
    ConfigurationError,
    DeflateDictCompressor,
    JSONSerializer,
    MissingDependencyError,
    TokenHeader,
    UnsupportedToken,
    compressors,
    register_cipher,
    register_compressor,
    register_dictionary,
    register_serializer,
    registry,
)
from trackcodec.codec import b64decode, b64encode
from trackcodec.keys import derive_subkey
from trackcodec.zstd import ZstdDictCompressor

PAYLOAD = {"url": "https://shop.example.com/p/42", "metadata": {"customer_id": 123456}}


@pytest.fixture(autouse=True)
def _isolated_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registrations made by a test are forgotten after it."""
    for table in ("_serializers", "_compressors", "_ciphers"):
        monkeypatch.setattr(registry, table, dict(getattr(registry, table)))
    monkeypatch.setattr(compressors, "_DICTIONARIES", dict(compressors._DICTIONARIES))


# -- names --------------------------------------------------------------------------


def test_registered_names() -> None:
    # Built-in names first (other tests, and docs examples, may have added theirs).
    assert registry.serializer_names()[:3] == list(SERIALIZERS)
    assert registry.compressor_names()[: len(COMPRESSORS)] == list(COMPRESSORS)
    assert registry.cipher_names()[:6] == list(CIPHERS)
    for name, id in SERIALIZER_IDS.items():
        assert registry.serializer_by_id(id)[0] == name  # type: ignore[index]
    for name, id in COMPRESSOR_IDS.items():
        assert registry.compressor_by_id(id)[0] == name  # type: ignore[index]
    for name, id in CIPHER_IDS.items():
        assert registry.cipher_by_id(id)[0] == name  # type: ignore[index]


@pytest.mark.parametrize("cipher", CIPHERS)
@pytest.mark.parametrize("compressor", COMPRESSORS)
@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_from_names_with_every_name(serializer: str, compressor: str, cipher: str) -> None:
    codec = Codec.from_names(
        serializer=serializer,
        compressor=compressor,
        cipher=cipher,
        keys=fixed_ring(),
        model=Payload if serializer == "schema" else None,
    )
    assert (codec.serializer.name, codec.compressor.name, codec.cipher.name) == (
        serializer,
        compressor,
        cipher,
    )
    assert codec.decode(codec.encode(PAYLOAD)) == PAYLOAD


def test_from_names_defaults_and_default() -> None:
    codec = Codec.from_names(keys=fixed_ring())
    assert (codec.serializer.name, codec.compressor.name, codec.cipher.name) == (
        "msgpack",
        "deflate",
        "aes-siv",
    )
    default = Codec.default(fixed_ring())
    assert default.encode(PAYLOAD) == codec.encode(PAYLOAD)  # AES-SIV is deterministic
    assert Codec.default(fixed_ring().to_string(), timestamp=True).timestamp


@pytest.mark.parametrize("field", ["serializer", "compressor", "cipher"])
@pytest.mark.parametrize("name", ["nope", "", "JSON", "aes_siv", " hmac"])
def test_unknown_names(field: str, name: str) -> None:
    with pytest.raises(ConfigurationError, match="unknown") as caught:
        Codec.from_names(keys=fixed_ring(), **{field: name})
    assert caught.value.field == field


def test_schema_without_model() -> None:
    with pytest.raises(ConfigurationError, match="model") as caught:
        Codec.from_names(serializer="schema", keys=fixed_ring())
    assert caught.value.field == "model"


def test_authenticating_cipher_without_keys() -> None:
    for cipher in CIPHERS[:-1]:
        with pytest.raises(ConfigurationError) as caught:
            Codec.from_names(serializer="json", cipher=cipher)
        assert caught.value.field == "keys"
    assert Codec.from_names(serializer="json", cipher="plain").decode(
        Codec.from_names(serializer="json", cipher="plain").encode(PAYLOAD)
    ) == (PAYLOAD)


# -- your own backends --------------------------------------------------------------


class ReversedHMACCipher:
    """Test cipher: the payload reversed, then an HMAC tag of the header and it."""

    id = 9
    name = "test-reversed"
    overhead = 16
    authenticated = True
    encrypted = False

    def __init__(self, secret: bytes) -> None:
        self._key = derive_subkey(secret, self.name)

    def _tag(self, header: bytes, body: bytes) -> bytes:
        return hmac.digest(self._key, header + body, "sha256")[:16]

    def seal(self, plaintext: bytes, /, *, header: bytes) -> bytes:
        body = plaintext[::-1]
        return body + self._tag(header, body)

    def open(self, sealed: bytes, /, *, header: bytes) -> bytes:
        body, tag = sealed[:-16], sealed[-16:]
        if len(sealed) < 16 or not hmac.compare_digest(tag, self._tag(header, body)):
            raise BadSignature("bad tag")
        return body[::-1]


class SortedJSONSerializer:
    """Test serializer: JSON with sorted keys."""

    id = 10
    name = "test-sorted-json"

    def __init__(self) -> None:
        self._json = JSONSerializer()

    def dumps(self, obj: Mapping[str, Any], /) -> bytes:
        import json

        return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()

    def loads(self, data: bytes, /) -> dict[str, Any]:
        return self._json.loads(data)


class ZlibCompressor:
    """Test compressor: a zlib stream with its header and checksum."""

    id = 3
    name = "test-zlib"
    min_size = 0

    def compress(self, data: bytes, /) -> bytes:
        return zlib.compress(data, 9)

    def decompress(self, data: bytes, /, *, max_size: int) -> bytes:
        return zlib.decompressobj().decompress(data, max_size)


def test_register_cipher_round_trips_and_decodes_by_id() -> None:
    register_cipher("test-reversed", ReversedHMACCipher, id=9)
    assert "test-reversed" in registry.cipher_names()
    codec = Codec.from_names(serializer="json", cipher="test-reversed", keys=fixed_ring())
    token = codec.encode(PAYLOAD)
    assert TokenHeader.parse(token).cipher_id == 9
    assert codec.decode(token) == PAYLOAD
    # Any codec decodes it through the registry, by the id in the header.
    other = make_codec(("msgpack", "deflate", "aes-siv"))
    info = other.decode_token(token)
    assert info.payload == PAYLOAD
    assert info.cipher == "test-reversed"
    # and it still authenticates.
    with pytest.raises(BadSignature):
        other.decode(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1])


def test_register_serializer_round_trips_and_decodes_by_id() -> None:
    register_serializer("test-sorted-json", SortedJSONSerializer, id=10)
    codec = Codec.from_names(serializer="test-sorted-json", cipher="hmac", keys=fixed_ring())
    token = codec.encode({"b": 1, "a": 2})
    assert TokenHeader.parse(token).serializer_id == 10
    other = make_codec(("json", "none", "hmac"))
    info = other.decode_token(token)
    assert info.payload == {"a": 2, "b": 1}
    assert list(info.payload) == ["a", "b"]
    assert info.serializer == "test-sorted-json"


def _free_compressor_id_3() -> None:
    """Unregister zstd-dict (from this test's copy of the registry): it holds the last id."""
    del registry._compressors["zstd-dict"]


def test_every_compressor_id_is_built_in() -> None:
    assert registry.compressor_by_id(3) == ("zstd-dict", ZstdDictCompressor)
    with pytest.raises(ConfigurationError, match="zstd-dict"):
        register_compressor("test-zlib", ZlibCompressor, id=3)


def test_register_compressor_round_trips_and_decodes_by_id() -> None:
    _free_compressor_id_3()
    register_compressor("test-zlib", ZlibCompressor, id=3)
    codec = Codec.from_names(serializer="json", compressor="test-zlib", keys=fixed_ring())
    payload = {"k": "abc" * 100}
    token = codec.encode(payload)
    assert TokenHeader.parse(token).compressor_id == 3
    assert make_codec(("json", "deflate", "aes-siv")).decode(token) == payload


def test_unregistered_ids_are_unsupported() -> None:
    register_cipher("test-reversed", ReversedHMACCipher, id=9)
    token = Codec.from_names(serializer="json", cipher="test-reversed", keys=fixed_ring()).encode(
        PAYLOAD
    )
    del registry._ciphers["test-reversed"]
    with pytest.raises(UnsupportedToken, match="cipher id 9"):
        make_codec(("json", "none", "hmac")).decode(token)


def test_registering_the_same_backend_again_is_harmless() -> None:
    register_cipher("test-reversed", ReversedHMACCipher, id=9)
    register_cipher("test-reversed", ReversedHMACCipher, id=9)
    from trackcodec import HMACCipher

    register_cipher("hmac", HMACCipher, id=1)
    assert registry.cipher_by_id(1) == ("hmac", HMACCipher)


def test_conflicting_registrations() -> None:
    register_cipher("test-reversed", ReversedHMACCipher, id=9)

    class Other(ReversedHMACCipher):
        pass

    conflicts = [
        lambda: register_cipher("test-reversed", Other, id=11),  # name taken
        lambda: register_cipher("test-other", Other, id=9),  # id taken
        lambda: register_cipher("hmac", Other, id=12),  # built-in name
        lambda: register_cipher("test-other", Other, id=2),  # built-in id
        lambda: register_serializer("json", SortedJSONSerializer, id=10),
        lambda: register_serializer("test-sorted-json", SortedJSONSerializer, id=1),
        lambda: register_compressor("deflate", ZlibCompressor, id=3),
        lambda: register_compressor("test-zlib", ZlibCompressor, id=1),
    ]
    for register in conflicts:
        with pytest.raises(ConfigurationError) as caught:
            register()
        assert caught.value.field == "id"
    assert registry.cipher_by_id(9) == ("test-reversed", ReversedHMACCipher)
    assert registry.cipher_by_id(1) is not None
    assert registry.cipher_by_id(1)[0] == "hmac"  # type: ignore[index]


@pytest.mark.parametrize(
    "register",
    [
        lambda: register_cipher("test-x", ReversedHMACCipher, id=16),
        lambda: register_cipher("test-x", ReversedHMACCipher, id=-1),
        lambda: register_serializer("test-x", SortedJSONSerializer, id=16),
        lambda: register_compressor("test-x", ZlibCompressor, id=4),
    ],
)
def test_ids_out_of_range(register: Any) -> None:
    with pytest.raises(ConfigurationError):
        register()


def test_registrations_do_not_leak_between_tests() -> None:
    assert registry.cipher_by_id(9) != ("test-reversed", ReversedHMACCipher)
    assert registry.serializer_by_id(10) != ("test-sorted-json", SortedJSONSerializer)
    assert registry.compressor_by_id(3) != ("test-zlib", ZlibCompressor)
    assert compressors.dictionaries().get(250) != FRAGMENTS


# -- compression dictionaries -------------------------------------------------------


FRAGMENTS = b"customer_id=campaign=spring-sale-2027https://newsletter.example.org/"


def test_register_dictionary() -> None:
    register_dictionary(250, FRAGMENTS)
    register_dictionary(250, FRAGMENTS)  # the same data again is fine
    mine = Codec(
        keys=fixed_ring(),
        serializer=JSONSerializer(),
        compressor=DeflateDictCompressor(dictionary_id=250),
    )
    payload = {"url": "https://newsletter.example.org/a", "campaign": "spring-sale-2027"}
    token = mine.encode(payload)
    assert TokenHeader.parse(token).compressor_id == 2
    # Any deflate-dict codec decodes it: the dictionary id travels in the body.
    assert make_codec(("json", "deflate-dict", "aes-siv")).decode(token) == payload
    default_dict = make_codec(("json", "deflate-dict", "aes-siv"))
    assert len(token) < len(default_dict.encode(payload))


@pytest.mark.parametrize(
    ("dictionary_id", "data", "field"),
    [
        (1, b"x", "dictionary_id"),
        (127, b"x", "dictionary_id"),
        (256, b"x", "dictionary_id"),
        (200, b"", "data"),
        (200, b"x" * 1793, "data"),
    ],
)
def test_register_dictionary_errors(dictionary_id: int, data: bytes, field: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        register_dictionary(dictionary_id, data)
    assert caught.value.field == field


def test_dictionary_cannot_change() -> None:
    register_dictionary(251, b"one")
    with pytest.raises(ConfigurationError, match="already registered"):
        register_dictionary(251, b"two")


def test_unknown_dictionary() -> None:
    with pytest.raises(ConfigurationError, match="no dictionary 222"):
        DeflateDictCompressor(dictionary_id=222)


class _NeedsAMissingPackage:
    """A plugin compressor whose optional dependency is not installed."""

    id = 3
    name = "test-missing"
    min_size = 0

    def __init__(self) -> None:
        raise MissingDependencyError("zstandard", "zstd", feature="test-missing")

    def compress(self, data: bytes, /) -> bytes:
        raise NotImplementedError

    def decompress(self, data: bytes, /, *, max_size: int) -> bytes:
        raise NotImplementedError


def test_a_compressor_missing_its_package_is_unsupported_only_after_authentication() -> None:
    # Decoding raises InvalidToken and nothing else, for any text: a forged
    # header naming such a compressor is a forgery (404), not an ImportError (500).
    _free_compressor_id_3()
    register_compressor("test-missing", _NeedsAMissingPackage, id=3)
    ring = fixed_ring()
    codec = make_codec(("msgpack", "deflate", "aes-siv"))
    raw = bytearray(b64decode(codec.encode({"a": 1})))
    raw[0] |= 3
    forged = bytes(raw)
    with pytest.raises(BadSignature):
        codec.decode(b64encode(forged))
    header = forged[:3]
    authentic = header + AESSIVCipher(ring.secret(0)).seal(b"\x80", header=header)
    with pytest.raises(UnsupportedToken, match="zstandard"):
        codec.decode(b64encode(authentic))
