"""HMAC-SHA256, truncated to 16 bytes: authenticated but readable tokens."""

from __future__ import annotations

import hmac as _hmac

from trackcodec.errors import BadSignature
from trackcodec.keys import derive_subkey

__all__ = ["HMACCipher"]

_TAG_SIZE = 16


class HMACCipher:
    """Sign-only: anyone can read the payload, nobody without the key can forge it.

    The body is the plaintext followed by the first 16 bytes of
    HMAC-SHA256(subkey, header ‖ plaintext). Needs only the standard library.

    Args:
        secret: A key ring secret; the HMAC key is derived from it.
    """

    id = 1
    layout = (
        ("payload (readable: signed, not encrypted)", None),
        ("HMAC-SHA256 tag, truncated", 16),
    )
    name = "hmac"
    overhead = _TAG_SIZE
    authenticated = True
    encrypted = False

    def __init__(self, secret: bytes) -> None:
        self._key = derive_subkey(secret, self.name, 32)

    def seal(self, plaintext: bytes, /, *, header: bytes) -> bytes:
        """Append the 16-byte tag to ``plaintext``."""
        return plaintext + _hmac.digest(self._key, header + plaintext, "sha256")[:_TAG_SIZE]

    def open(self, sealed: bytes, /, *, header: bytes) -> bytes:
        """Check the tag in constant time and return the plaintext."""
        plaintext, tag = sealed[:-_TAG_SIZE], sealed[-_TAG_SIZE:]
        expected = _hmac.digest(self._key, header + plaintext, "sha256")[:_TAG_SIZE]
        if len(sealed) < _TAG_SIZE or not _hmac.compare_digest(tag, expected):
            raise BadSignature("token failed authentication")
        return plaintext

    def __repr__(self) -> str:
        return "HMACCipher(<secret>)"
