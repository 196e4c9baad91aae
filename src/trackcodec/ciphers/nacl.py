"""libsodium ciphers from PyNaCl (``trackcodec[nacl]``): XChaCha20-Poly1305 and SecretBox."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import Any

from trackcodec._deps import require
from trackcodec.errors import BadSignature
from trackcodec.keys import derive_subkey

__all__ = ["SecretBoxCipher", "XChaCha20Cipher"]

_NONCE_SIZE = 24
_TAG_SIZE = 16


def _bindings(feature: str) -> Any:
    return require("nacl.bindings", package="pynacl", extra="nacl", feature=feature)


def _open_after_nonce(sealed: bytes, open_body: Callable[[bytes, bytes], Any]) -> bytes:
    """Split ``nonce ‖ rest`` and open the rest; any failure is `BadSignature`."""
    if len(sealed) < _NONCE_SIZE + _TAG_SIZE:
        raise BadSignature("token failed authentication")
    try:
        plaintext: bytes = open_body(sealed[:_NONCE_SIZE], sealed[_NONCE_SIZE:])
    except Exception as exc:  # nacl.exceptions.CryptoError
        raise BadSignature("token failed authentication") from exc
    return plaintext


class XChaCha20Cipher:
    """XChaCha20-Poly1305 (IETF AEAD) with a random 24-byte nonce; the header is associated data.

    Randomized: the same payload gives a different token each time.

    Args:
        secret: A key ring secret; the 32-byte key is derived from it.

    Raises:
        MissingDependencyError: ``pynacl`` is not installed.
    """

    id = 3
    layout = (("nonce", 24), ("ciphertext of the payload", None), ("Poly1305 tag", 16))
    name = "xchacha20"
    overhead = _NONCE_SIZE + _TAG_SIZE
    authenticated = True
    encrypted = True

    def __init__(self, secret: bytes) -> None:
        nacl = _bindings("XChaCha20Cipher")
        self._encrypt = nacl.crypto_aead_xchacha20poly1305_ietf_encrypt
        self._decrypt = nacl.crypto_aead_xchacha20poly1305_ietf_decrypt
        self._key = derive_subkey(secret, self.name, 32)

    def seal(self, plaintext: bytes, /, *, header: bytes) -> bytes:
        """Encrypt: nonce ‖ ciphertext ‖ 16-byte tag."""
        nonce = os.urandom(_NONCE_SIZE)
        sealed: bytes = self._encrypt(plaintext, header, nonce, self._key)
        return nonce + sealed

    def open(self, sealed: bytes, /, *, header: bytes) -> bytes:
        """Authenticate and decrypt; raises `BadSignature` on any failure."""
        return _open_after_nonce(
            sealed, lambda nonce, body: self._decrypt(body, header, nonce, self._key)
        )

    def __repr__(self) -> str:
        return "XChaCha20Cipher(<secret>)"


class SecretBoxCipher:
    """NaCl SecretBox (XSalsa20-Poly1305) with a random 24-byte nonce.

    SecretBox has no associated data, so the header is bound through the
    nonce: the box is sealed under BLAKE2b(header ‖ nonce) truncated to 24
    bytes, while the random nonce travels in the token. Changing the header
    changes the effective nonce, hence the Poly1305 key, and authentication
    fails, at no cost in length.

    Args:
        secret: A key ring secret; the 32-byte key is derived from it.

    Raises:
        MissingDependencyError: ``pynacl`` is not installed.
    """

    id = 4
    layout = (("nonce", 24), ("Poly1305 tag", 16), ("ciphertext of the payload", None))
    name = "secretbox"
    overhead = _NONCE_SIZE + _TAG_SIZE
    authenticated = True
    encrypted = True

    def __init__(self, secret: bytes) -> None:
        nacl = _bindings("SecretBoxCipher")
        self._box = nacl.crypto_secretbox
        self._unbox = nacl.crypto_secretbox_open
        self._key = derive_subkey(secret, self.name, 32)

    @staticmethod
    def _bound_nonce(header: bytes, nonce: bytes) -> bytes:
        return hashlib.blake2b(header + nonce, digest_size=_NONCE_SIZE).digest()

    def seal(self, plaintext: bytes, /, *, header: bytes) -> bytes:
        """Encrypt: nonce ‖ 16-byte tag ‖ ciphertext."""
        nonce = os.urandom(_NONCE_SIZE)
        boxed: bytes = self._box(plaintext, self._bound_nonce(header, nonce), self._key)
        return nonce + boxed

    def open(self, sealed: bytes, /, *, header: bytes) -> bytes:
        """Authenticate and decrypt; raises `BadSignature` on any failure."""
        return _open_after_nonce(
            sealed,
            lambda nonce, body: self._unbox(body, self._bound_nonce(header, nonce), self._key),
        )

    def __repr__(self) -> str:
        return "SecretBoxCipher(<secret>)"
