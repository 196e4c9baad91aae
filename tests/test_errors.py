"""The exception tree, and what happens when an optional dependency is missing."""

from __future__ import annotations

import re
import sys

import pytest

import trackcodec
from support import Combo, Payload, fixed_ring, make_codec, run_without_packages
from trackcodec import (
    AESSIVCipher,
    BadSignature,
    Codec,
    ConfigurationError,
    FernetCipher,
    HMACCipher,
    InvalidToken,
    JSONSerializer,
    LimitExceeded,
    MalformedToken,
    MissingDependencyError,
    MsgpackSerializer,
    PayloadError,
    RedirectNotAllowed,
    SchemaSerializer,
    SecretBoxCipher,
    TokenExpired,
    TokenHeader,
    TrackcodecError,
    UnknownKey,
    UnsupportedToken,
    XChaCha20Cipher,
    errors,
)
from trackcodec.zstd import ZstdDictCompressor

PAYLOAD = {"url": "https://shop.example.com/p/42", "metadata": {"customer_id": 123456}}


def _drawn_tree() -> list[tuple[str, str | None]]:
    """(class, parent) pairs of the tree drawn in the errors module docstring."""
    assert errors.__doc__ is not None
    pairs: list[tuple[str, str | None]] = []
    stack: list[str] = []
    for line in errors.__doc__.splitlines():
        match = re.match(r"^(\s*)((?:[│ ]   )*)(?:[├└]── )?([A-Z]\w+)(?:\s|$)", line)
        if match is None or not hasattr(errors, match.group(3)):
            continue
        name = match.group(3)
        depth = 0 if "──" not in line else len(match.group(2)) // 4 + 1
        del stack[depth:]
        pairs.append((name, stack[-1] if stack else None))
        stack.append(name)
    return pairs


def test_drawn_tree_covers_every_exception() -> None:
    drawn = {name for name, _ in _drawn_tree()}
    assert drawn == set(errors.__all__)
    assert _drawn_tree()[0] == ("TrackcodecError", None)


@pytest.mark.parametrize(("name", "parent"), _drawn_tree()[1:], ids=lambda v: str(v))
def test_drawn_tree_matches_the_classes(name: str, parent: str) -> None:
    cls, base = getattr(errors, name), getattr(errors, parent)
    assert base in cls.__bases__, f"{name} is drawn under {parent}"


def test_exception_tree() -> None:
    for cls in (
        MalformedToken,
        LimitExceeded,
        UnsupportedToken,
        UnknownKey,
        BadSignature,
        TokenExpired,
        PayloadError,
        RedirectNotAllowed,
    ):
        assert issubclass(cls, InvalidToken)
        assert issubclass(cls, TrackcodecError)
        assert not issubclass(cls, ValueError)
    assert issubclass(InvalidToken, TrackcodecError)
    assert issubclass(ConfigurationError, TrackcodecError)
    assert issubclass(ConfigurationError, ValueError)
    assert not issubclass(ConfigurationError, InvalidToken)
    assert issubclass(MissingDependencyError, TrackcodecError)
    assert issubclass(MissingDependencyError, ImportError)
    assert not issubclass(MissingDependencyError, InvalidToken)
    # Every public exception is one of these, and trackcodec re-exports them all.
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), TrackcodecError)
        assert getattr(trackcodec, name) is getattr(errors, name)


def test_exception_attributes() -> None:
    assert TokenExpired("x").issued_at is None
    assert TokenExpired("x", issued_at=5).issued_at == 5
    assert RedirectNotAllowed("x", url="javascript:alert(1)").url == "javascript:alert(1)"
    assert ConfigurationError("x").field is None
    assert ConfigurationError("x", field="keys").field == "keys"
    error = MissingDependencyError("pynacl", "nacl", feature="XChaCha20Cipher")
    assert error.extra == "nacl"
    assert "pip install 'trackcodec[nacl]'" in str(error)
    assert "pynacl" in str(error)
    assert "XChaCha20Cipher" in str(error)


def test_payload_error_chains_the_original_exception() -> None:
    codec = make_codec(Combo("json", "none", "hmac"))
    from trackcodec.codec import b64decode, b64encode

    raw = b64decode(codec.encode(PAYLOAD))
    header = raw[:3]
    signer = HMACCipher(fixed_ring().secret(0))
    token = b64encode(header + signer.seal(b"{not json", header=header))
    with pytest.raises(PayloadError) as caught:
        codec.decode(token)
    assert isinstance(caught.value.__cause__, ValueError)


# -- missing optional dependencies ----------------------------------------------------


def _block(monkeypatch: pytest.MonkeyPatch, *packages: str) -> None:
    """Make ``import package`` (and its submodules) fail, as if not installed."""
    for name in list(sys.modules):
        if name.partition(".")[0] in packages:
            monkeypatch.setitem(sys.modules, name, None)
    for package in packages:
        monkeypatch.setitem(sys.modules, package, None)


@pytest.mark.parametrize(
    ("build", "blocked", "extra"),
    [
        (MsgpackSerializer, "msgpack", "msgpack"),
        (lambda: SchemaSerializer(Payload), "msgpack", "msgpack"),
        (lambda: AESSIVCipher(bytes(32)), "cryptography", "crypto"),
        (lambda: FernetCipher(bytes(32)), "cryptography", "crypto"),
        (lambda: XChaCha20Cipher(bytes(32)), "nacl", "nacl"),
        (lambda: SecretBoxCipher(bytes(32)), "nacl", "nacl"),
        (lambda: Codec.default(fixed_ring()), "msgpack", "msgpack"),
        (lambda: Codec.default(fixed_ring()), "cryptography", "crypto"),
        (
            lambda: Codec.from_names(serializer="json", cipher="xchacha20", keys=fixed_ring()),
            "nacl",
            "nacl",
        ),
        pytest.param(
            ZstdDictCompressor,
            "backports",
            "zstd",
            marks=pytest.mark.skipif(
                sys.version_info >= (3, 14), reason="zstd is in 3.14's stdlib"
            ),
        ),
    ],
    ids=[
        "msgpack",
        "schema",
        "aes-siv",
        "fernet",
        "xchacha20",
        "secretbox",
        "default-msgpack",
        "default-crypto",
        "from-names",
        "zstd-dict",
    ],
)
def test_missing_dependency_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, build: object, blocked: str, extra: str
) -> None:
    _block(monkeypatch, blocked)
    with pytest.raises(MissingDependencyError) as caught:
        build()  # type: ignore[operator]
    assert caught.value.extra == extra
    assert f"pip install 'trackcodec[{extra}]'" in str(caught.value)
    assert isinstance(caught.value.__cause__, ImportError)


@pytest.mark.parametrize(
    ("cipher", "blocked"),
    [
        ("aes-siv", "cryptography"),
        ("fernet", "cryptography"),
        ("xchacha20", "nacl"),
        ("secretbox", "nacl"),
    ],
)
def test_decoding_needs_the_cipher_dependency(
    monkeypatch: pytest.MonkeyPatch, cipher: str, blocked: str
) -> None:
    token = make_codec(Combo("json", "deflate", cipher)).encode(PAYLOAD)
    _block(monkeypatch, blocked)
    # Built after blocking, so that no cipher instance is cached.
    decoder = Codec(keys=fixed_ring(), serializer=JSONSerializer(), cipher=HMACCipher)
    with pytest.raises(
        UnsupportedToken, match=rf"trackcodec\[{'nacl' if blocked == 'nacl' else 'crypto'}\]"
    ):
        decoder.decode(token)
    # Tokens that need nothing missing still decode.
    assert decoder.decode(decoder.encode(PAYLOAD)) == PAYLOAD


def test_decoding_needs_the_serializer_dependency(monkeypatch: pytest.MonkeyPatch) -> None:
    token = make_codec(Combo("msgpack", "deflate", "hmac")).encode(PAYLOAD)
    _block(monkeypatch, "msgpack")
    decoder = Codec(keys=fixed_ring(), serializer=JSONSerializer(), cipher=HMACCipher)
    with pytest.raises(UnsupportedToken, match=r"trackcodec\[msgpack\]"):
        decoder.decode(token)


# zstd comes from backports.zstd below Python 3.14, from the stdlib's compression.zstd after.
_BLOCKED = ("msgpack", "cryptography", "nacl", "backports") + (
    ("compression",) if sys.version_info < (3, 14) else ()
)
_SCRIPT = """
    import trackcodec
    from trackcodec import (
        AESSIVCipher, Codec, HMACCipher, JSONSerializer, KeyRing, MissingDependencyError,
        MsgpackSerializer, UnsupportedToken, XChaCha20Cipher,
    )
    from trackcodec.zstd import ZstdDictCompressor as zstd

    loaded = sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED)
    assert not loaded, loaded

    ring = KeyRing.from_string(sys.argv[1])
    codec = Codec(keys=ring, serializer=JSONSerializer(), cipher=HMACCipher)
    assert codec.decode(codec.encode({"a": [1, "é"]})) == {"a": [1, "é"]}

    for build, extra in (
        (MsgpackSerializer, "msgpack"),
        (lambda: AESSIVCipher(bytes(32)), "crypto"),
        (lambda: XChaCha20Cipher(bytes(32)), "nacl"),
        (lambda: Codec.default(ring), "msgpack,crypto"),
        (zstd, "zstd"),
    ):
        assert_needs_extra(build, extra)

    tokens = [(sys.argv[2], "crypto")]  # AES-SIV
    if sys.version_info < (3, 14):
        tokens.append((sys.argv[3], "zstd"))  # zstd-dict
    for token, extra in tokens:
        try:
            codec.decode(token)
        except UnsupportedToken as exc:
            assert f"trackcodec[{extra}]" in str(exc), exc
        else:
            raise AssertionError(f"decoded a token that needs trackcodec[{extra}] without it")
    print("ok")
"""


def test_import_without_any_optional_dependency() -> None:
    ring = fixed_ring()
    aes_token = make_codec(Combo("json", "none", "aes-siv")).encode(PAYLOAD)
    zstd_token = make_codec(Combo("json", "zstd-dict", "hmac")).encode(PAYLOAD)
    assert TokenHeader.parse(zstd_token).compressor_id == 3
    run_without_packages(_BLOCKED, _SCRIPT, ring.to_string(), aes_token, zstd_token)
