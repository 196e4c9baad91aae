"""No protection at all: for reading legacy tokens and for tests, never for production."""

from __future__ import annotations

__all__ = ["InsecurePlainCipher"]


class InsecurePlainCipher:
    """INSECURE: neither authenticates nor encrypts.

    Anyone can read and forge a plain token: a forged click token turns your
    tracking endpoint into an open redirect, and a forged webhook into a
    server-side request forgery. It exists for compatibility with unsigned
    legacy tokens and is never a default. A codec only decodes plain tokens
    when it is itself configured with this cipher or told
    ``accept_unauthenticated=True``.

    Args:
        secret: Ignored (accepted so that the class is a `CipherFactory`).
    """

    id = 0
    layout = (("payload (readable, NOT authenticated)", None),)
    name = "plain"
    overhead = 0
    authenticated = False
    encrypted = False

    def __init__(self, secret: bytes = b"") -> None:
        del secret

    def seal(self, plaintext: bytes, /, *, header: bytes) -> bytes:
        """Return ``plaintext`` as it is."""
        return plaintext

    def open(self, sealed: bytes, /, *, header: bytes) -> bytes:
        """Return ``sealed`` as it is."""
        return sealed

    def __repr__(self) -> str:
        return "InsecurePlainCipher()"
