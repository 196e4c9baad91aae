"""The token wire format, version 1: header, ids, base64url text and limits.

All of the header is authenticated:

    byte 0   format version (high nibble) | flags (low nibble)
               bits 0-1  compressor id actually used (0: not compressed)
               bit 2     an issued-at timestamp follows the header
               bit 3     reserved, must be 0
    byte 1   serializer id (high nibble) | cipher id (low nibble)
    byte 2   key id
    [4 B]    issued-at, big-endian uint32 Unix seconds (when bit 2 is set)
    body     the sealed payload: whatever the cipher makes of it (AES-SIV:
             16-byte synthetic IV ‖ ciphertext; HMAC: plaintext ‖ 16-byte
             tag; XChaCha20 and SecretBox: 24-byte nonce first)

The token is the unpadded base64url text of the bytes above. Three header
bytes are exactly four characters, so a reader can route on them.

`trackcodec.codec.Codec` assembles a codec from these pieces; this module
holds every fact about the bytes, and the one base64url decoder of the package.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from trackcodec.errors import (
    ConfigurationError,
    LimitExceeded,
    MalformedToken,
    UnsupportedToken,
)

__all__ = [
    "FLAG_TIMESTAMP",
    "FORMAT_VERSION",
    "HEADER_SIZE",
    "MAX_COMPRESSOR_ID",
    "MAX_ID",
    "TIMESTAMP_SIZE",
    "Limits",
    "TokenHeader",
    "VERSION_BITS",
    "b64decode",
    "b64encode",
    "b64url_decode",
    "check_nesting",
    "header_bytes",
    "parse_header",
    "with_issue_time",
]

FORMAT_VERSION = 1
VERSION_BITS = FORMAT_VERSION << 4
FLAG_TIMESTAMP = 0x04
FLAG_RESERVED = 0x08
COMPRESSOR_MASK = 0x03
HEADER_SIZE = 3
TIMESTAMP_SIZE = 4
MAX_ID = 15  # serializer and cipher ids: one nibble each
MAX_COMPRESSOR_ID = 3  # two flag bits

_B64_TOKEN = re.compile(rb"[A-Za-z0-9_-]+")
_B64_LOOSE = re.compile(rb"[A-Za-z0-9_-]*={0,2}")
_B64_ENCODE = bytes.maketrans(b"+/", b"-_")
_B64_DECODE = bytes.maketrans(b"-_", b"+/")
_PADDING = (b"", b"", b"==", b"=")
# Characters whose unused low bits are zero, as the last character of a token
# of length 2 or 3 (mod 4) must be: one encoding per token, no malleable twins.
_CANONICAL_LAST = (
    b"",
    b"",
    frozenset(b"AQgw"),
    frozenset(b"AEIMQUYcgkosw048"),
)


def b64encode(data: bytes) -> str:
    """Unpadded base64url text of ``data``."""
    return binascii.b2a_base64(data, newline=False).translate(_B64_ENCODE).rstrip(b"=").decode()


def b64decode(text: str) -> bytes:
    """Decode the canonical unpadded base64url text of a token.

    Raises:
        MalformedToken: ``text`` is empty, has a character outside the
            base64url alphabet, has an impossible length, or is not the one
            canonical encoding of its bytes.
    """
    data = text.encode("ascii", "replace")
    tail = len(data) % 4
    if (
        tail == 1
        or not _B64_TOKEN.fullmatch(data)
        or (tail and data[-1] not in _CANONICAL_LAST[tail])
    ):
        raise MalformedToken("token is not canonical unpadded base64url")
    return binascii.a2b_base64(data.translate(_B64_DECODE) + _PADDING[tail])


def b64url_decode(text: str | bytes) -> bytes:
    """Decode base64url text, padded or not, as keys and pytracking tokens are written.

    Unlike `base64.urlsafe_b64decode`, a character outside the alphabet is an
    error rather than skipped, so a typo never turns into other bytes.

    Raises:
        ValueError: The text is not base64url.
    """
    data = text.encode("ascii", "replace") if isinstance(text, str) else text
    if not _B64_LOOSE.fullmatch(data):
        raise ValueError("not base64url text")
    data = data.rstrip(b"=")
    tail = len(data) % 4
    if tail == 1:
        raise ValueError("base64url text of an impossible length")
    return binascii.a2b_base64(data.translate(_B64_DECODE) + _PADDING[tail])


@dataclass(frozen=True)
class Limits:
    """Caps on everything an attacker controls; exceeding one raises `LimitExceeded`.

    Attributes:
        max_token_length: Longest token accepted, in characters.
        max_payload_size: Largest serialized payload, in bytes, after decompression.
        max_depth: Deepest nesting of lists and mappings in a payload.
    """

    max_token_length: int = 4096
    max_payload_size: int = 65536
    max_depth: int = 32

    def __post_init__(self) -> None:
        for name in ("max_token_length", "max_payload_size", "max_depth"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, not {type(value).__name__}")
            if value < 1:
                raise ConfigurationError(f"{name} must be positive", field=name)
        if self.max_depth > 256:
            raise ConfigurationError("max_depth is at most 256", field="max_depth")


class TokenHeader(NamedTuple):
    """The clear-text header of a token, read without checking anything else.

    Only for routing and display (``trackcodec decode --explain``): nothing in
    it is authenticated until the token decodes.

    Attributes:
        version: Token format version (1).
        serializer_id: Serializer id (high nibble of byte 1).
        compressor_id: Compressor id actually used, 0 if not compressed.
        cipher_id: Cipher id (low nibble of byte 1).
        key_id: Key id (byte 2).
        issued_at: Issue time, Unix seconds, when the token carries one.
        header_size: Header bytes: 3, or 7 with an issue time.
        body_size: Bytes after the header (the sealed payload).
    """

    version: int
    serializer_id: int
    compressor_id: int
    cipher_id: int
    key_id: int
    issued_at: int | None
    header_size: int
    body_size: int

    @property
    def flags(self) -> int:
        """The low nibble of byte 0: compressor id and the timestamp flag."""
        return self.compressor_id | (FLAG_TIMESTAMP if self.issued_at is not None else 0)

    @classmethod
    def parse(cls, token: str) -> TokenHeader:
        """Parse the header of ``token``.

        Raises:
            MalformedToken: The token is not base64url or is too short.
            UnsupportedToken: The format version is not 1.
        """
        return parse_header(b64decode(token))


def parse_header(raw: bytes) -> TokenHeader:
    """Parse the header at the start of the token bytes ``raw``.

    Raises:
        MalformedToken: ``raw`` is shorter than its header, or sets a reserved flag.
        UnsupportedToken: The format version is not 1.
    """
    if len(raw) < HEADER_SIZE:
        raise MalformedToken("token is shorter than its header")
    first = raw[0]
    if first >> 4 != FORMAT_VERSION:
        raise UnsupportedToken(f"unknown token format version {first >> 4}")
    if first & FLAG_RESERVED:
        raise MalformedToken("token sets a reserved header flag")
    size = HEADER_SIZE
    issued_at = None
    if first & FLAG_TIMESTAMP:
        size += TIMESTAMP_SIZE
        if len(raw) < size:
            raise MalformedToken("token is shorter than its header")
        issued_at = int.from_bytes(raw[HEADER_SIZE:size], "big")
    return TokenHeader(
        FORMAT_VERSION,
        raw[1] >> 4,
        first & COMPRESSOR_MASK,
        raw[1] & 0x0F,
        raw[2],
        issued_at,
        size,
        len(raw) - size,
    )


def header_bytes(serializer_id: int, compressor_id: int, cipher_id: int, key_id: int) -> bytes:
    """The 3-byte header of a token without an issue time."""
    return bytes((VERSION_BITS | compressor_id, (serializer_id << 4) | cipher_id, key_id))


def with_issue_time(header: bytes, stamp: int) -> bytes:
    """``header`` with the timestamp flag set and ``stamp`` (uint32 seconds) appended."""
    return bytes((header[0] | FLAG_TIMESTAMP, *header[1:HEADER_SIZE])) + stamp.to_bytes(
        TIMESTAMP_SIZE, "big"
    )


_SCALARS = frozenset({str, int, float, bool, type(None), bytes})


def check_nesting(obj: Any, max_depth: int, *, str_keys: bool = False) -> None:
    """Walk a payload: refuse lists and mappings nested more than ``max_depth`` levels below.

    The one walker of payloads, for decoding (what a token holds) and
    encoding (what a caller passes, with ``str_keys``).

    Raises:
        LimitExceeded: The payload nests too deep.
        TypeError: With ``str_keys``, a mapping key is not a ``str`` (it would
            not survive a round trip). Messages never quote payload values.
    """
    if type(obj) is dict or isinstance(obj, Mapping):
        if str_keys:
            for key in obj:
                if type(key) is not str:
                    raise TypeError(f"payload keys must be str, not {type(key).__name__}")
        children = obj.values()
    else:
        children = obj
    for child in children:
        kind = type(child)
        if kind in _SCALARS:
            continue
        if kind is dict or kind is list or kind is tuple or isinstance(child, Mapping):
            if max_depth <= 1:
                raise LimitExceeded("payload nests deeper than the limit")
            check_nesting(child, max_depth - 1, str_keys=str_keys)
