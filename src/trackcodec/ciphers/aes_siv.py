"""AES-SIV (RFC 5297): deterministic authenticated encryption, the default cipher."""

from __future__ import annotations

from trackcodec._deps import require
from trackcodec.errors import BadSignature
from trackcodec.keys import derive_subkey

__all__ = ["AESSIVCipher"]


class AESSIVCipher:
    """AES-256-SIV from ``cryptography``; the token header is associated data.

    Deterministic: the same payload under the same key gives the same token
    (which reveals only that two links are identical) and needs no nonce, so
    tokens are 16 bytes longer than the plaintext and no more.

    Args:
        secret: A key ring secret; the 64-byte AES-SIV key is derived from it.

    Raises:
        MissingDependencyError: ``cryptography`` is not installed.
    """

    id = 2
    # Where the bytes of a sealed body go (label, size; None: the rest), for `decode --explain`.
    layout = (("synthetic IV (authentication tag)", 16), ("ciphertext of the payload", None))
    name = "aes-siv"
    overhead = 16
    authenticated = True
    encrypted = True

    def __init__(self, secret: bytes) -> None:
        aead = require(
            "cryptography.hazmat.primitives.ciphers.aead",
            package="cryptography",
            extra="crypto",
            feature="AESSIVCipher",
        )
        self._aead = aead.AESSIV(derive_subkey(secret, self.name, 64))

    def seal(self, plaintext: bytes, /, *, header: bytes) -> bytes:
        """Encrypt and authenticate ``plaintext``: 16-byte synthetic IV, then ciphertext."""
        sealed: bytes = self._aead.encrypt(plaintext, [header])
        return sealed

    def open(self, sealed: bytes, /, *, header: bytes) -> bytes:
        """Authenticate and decrypt; raises `BadSignature` on any failure."""
        try:
            plaintext: bytes = self._aead.decrypt(sealed, [header])
        except Exception as exc:  # InvalidTag, or ValueError for a short body
            raise BadSignature("token failed authentication") from exc
        return plaintext

    def __repr__(self) -> str:
        return "AESSIVCipher(<secret>)"
