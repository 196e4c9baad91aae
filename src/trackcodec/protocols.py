"""The small interfaces every backend implements.

A `Codec` composes one `Serializer`, one `Compressor` and one `Cipher`.
Backends subclass nothing: any object with the right attributes fits, which is
checked statically by mypy. Ids are written in the token header, so they are
part of the persisted format: built-in backends use ids 1-7, ids 8-15
(serializers, ciphers) and 128-255 (compression dictionaries) are free for
your own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

__all__ = ["Cipher", "CipherFactory", "Compressor", "Serializer"]


class Serializer(Protocol):
    """Turns a payload mapping into bytes and back.

    Attributes:
        id: 1-15, written in the token header (high nibble of byte 1).
        name: Registry name, for messages and the CLI.
    """

    id: int
    name: str

    def dumps(self, obj: Mapping[str, Any], /) -> bytes:
        """Serialize a payload. Raises ``TypeError``/``ValueError`` for unsupported values."""
        ...

    def loads(self, data: bytes, /) -> dict[str, Any]:
        """Deserialize a payload. Raises any exception on bad data; the codec wraps it."""
        ...


class Compressor(Protocol):
    """Compresses serialized payloads.

    The codec keeps the compressed form only when it is shorter, and records
    the compressor's id in the token header's flags.

    Attributes:
        id: 1-3, written in the token header (low two bits of byte 0); 0 means
            "not compressed".
        name: Registry name.
        min_size: Inputs shorter than this are sent uncompressed without
            trying (compressing costs microseconds, and short inputs rarely shrink).
    """

    id: int
    name: str
    min_size: int

    def compress(self, data: bytes, /) -> bytes:
        """Compress ``data``."""
        ...

    def decompress(self, data: bytes, /, *, max_size: int) -> bytes:
        """Decompress ``data``.

        Raises:
            LimitExceeded: The output would exceed ``max_size`` bytes.
            MalformedToken: ``data`` is not a valid compressed stream.
        """
        ...


class Cipher(Protocol):
    """Seals (authenticates, and usually encrypts) a payload under one key.

    A cipher instance is bound to one secret; the codec builds one per key of
    its `KeyRing` through a `CipherFactory`.

    Attributes:
        id: 0-15, written in the token header (low nibble of byte 1).
        name: Registry name.
        overhead: Bytes added to every token (nonce, tag, IV...).
        authenticated: Whether `open` detects forged or altered tokens.
        encrypted: Whether the payload is unreadable without the key.
    """

    id: int
    name: str
    overhead: int
    authenticated: bool
    encrypted: bool

    def seal(self, plaintext: bytes, /, *, header: bytes) -> bytes:
        """Seal ``plaintext``; ``header`` is authenticated but not included in the output."""
        ...

    def open(self, sealed: bytes, /, *, header: bytes) -> bytes:
        """Open a sealed body.

        Raises:
            BadSignature: Authentication failed (forged or altered token, wrong key).
        """
        ...


class CipherFactory(Protocol):
    """Builds a `Cipher` from one key ring secret; every built-in cipher class is one.

    A codec calls it once per key id it meets, so it may derive subkeys and
    set up primitives there rather than per token.
    """

    def __call__(self, secret: bytes, /) -> Cipher:
        """Return a cipher keyed by ``secret``."""
        ...
