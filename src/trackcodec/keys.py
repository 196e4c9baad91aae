"""Key rings: which secrets seal new tokens and which still open old ones.

A `KeyRing` holds up to 256 secrets, each under a key id (0-255) that is
written in every token header. The primary key seals; every key in the ring
opens the tokens that name its id, so rotating keys never breaks links already
sent: add a new primary with `KeyRing.rotate`, and drop the old key only when
its links may die.

Each cipher uses its own subkey, derived from the ring secret with HKDF-SHA256
(RFC 5869) and the cipher's name, so one secret can safely serve several
ciphers.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Iterable, Iterator, Mapping

from trackcodec.errors import ConfigurationError
from trackcodec.wire import b64url_decode

__all__ = ["KeyRing", "derive_subkey", "hkdf_sha256"]

_TEXT_PREFIX = "tck1:"
SECRET_SIZE = 32
_MIN_SECRET_SIZE = 16


def hkdf_sha256(secret: bytes, *, info: bytes, length: int, salt: bytes = b"") -> bytes:
    """Derive ``length`` bytes from ``secret`` with HKDF-SHA256 (RFC 5869).

    Args:
        secret: Input keying material.
        info: Context string; different ``info`` gives independent keys.
        length: Bytes to derive, at most 8160.
        salt: Optional salt (an empty salt means 32 zero bytes, as the RFC says).

    Returns:
        The derived key.
    """
    if not 0 < length <= 255 * 32:
        raise ValueError("HKDF-SHA256 derives 1 to 8160 bytes")
    prk = hmac.digest(salt or bytes(32), secret, "sha256")
    out = b""
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac.digest(prk, block + info + bytes([counter]), "sha256")
        out += block
        counter += 1
    return out[:length]


def derive_subkey(secret: bytes, purpose: str, length: int = 32) -> bytes:
    """Derive the subkey of a ring ``secret`` for ``purpose`` (a cipher name).

    Every built-in cipher derives its key this way, so one secret can serve
    several ciphers without any two of them sharing key material.
    """
    return hkdf_sha256(secret, info=b"trackcodec/v1/" + purpose.encode(), length=length)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _looks_like_fernet_key(text: str) -> bool:
    try:
        return len(text) == 44 and len(b64url_decode(text)) == 32
    except ValueError:
        return False


class KeyRing:
    """An immutable, ordered set of secrets addressed by key id.

    Args:
        keys: ``{key_id: secret}`` or ``(key_id, secret)`` pairs; key ids are
            0-255, secrets at least 16 random bytes (32 recommended).
        primary: The key id that seals new tokens; by default the first key.

    Raises:
        ConfigurationError: No key, a key id out of range, a short secret, or a
            primary id that is not in the ring.

    Examples:
        >>> ring = KeyRing.generate()
        >>> same = KeyRing.from_string(ring.to_string())
        >>> same.primary_id == ring.primary_id
        True
    """

    __slots__ = ("_primary", "_secrets")

    def __init__(
        self,
        keys: Mapping[int, bytes] | Iterable[tuple[int, bytes]],
        *,
        primary: int | None = None,
    ) -> None:
        pairs = list(keys.items()) if isinstance(keys, Mapping) else list(keys)
        if not pairs:
            raise ConfigurationError("a key ring needs at least one key", field="keys")
        secrets_by_id: dict[int, bytes] = {}
        for key_id, secret in pairs:
            if isinstance(key_id, bool) or not isinstance(key_id, int) or not 0 <= key_id <= 255:
                raise ConfigurationError(
                    f"key id must be an int 0-255, got {key_id!r}", field="keys"
                )
            if not isinstance(secret, bytes) or len(secret) < _MIN_SECRET_SIZE:
                raise ConfigurationError(
                    f"key {key_id}: a secret must be at least {_MIN_SECRET_SIZE} bytes",
                    field="keys",
                )
            if key_id in secrets_by_id:
                raise ConfigurationError(f"key id {key_id} appears twice", field="keys")
            secrets_by_id[key_id] = secret
        if primary is None:
            primary = pairs[0][0]
        if primary not in secrets_by_id:
            raise ConfigurationError(f"primary key id {primary} is not in the ring", field="keys")
        self._secrets = secrets_by_id
        self._primary = primary

    @classmethod
    def generate(cls, key_id: int = 0) -> KeyRing:
        """Return a ring with one new random 32-byte key under ``key_id``."""
        return cls({key_id: secrets.token_bytes(SECRET_SIZE)})

    @classmethod
    def from_string(cls, text: str) -> KeyRing:
        """Parse the text form made by `to_string` (``tck1:ID.SECRET,ID.SECRET...``).

        The first entry is the primary key.

        Raises:
            ConfigurationError: The text is not a key ring.
        """
        if not isinstance(text, str):
            raise TypeError(f"a key ring's text form is a str, not {type(text).__name__}")
        text = text.strip()
        if not text.startswith(_TEXT_PREFIX):
            hint = ""
            if _looks_like_fernet_key(text):
                hint = (
                    "; this looks like a pytracking Fernet key: put it in "
                    "legacy_fernet_keys (TRACKCODEC_LEGACY_FERNET_KEYS) with "
                    "accept_legacy='fernet', and make a ring with `trackcodec keygen`"
                )
            raise ConfigurationError(
                f"a key ring's text form starts with {_TEXT_PREFIX!r}{hint}", field="keys"
            )
        pairs: list[tuple[int, bytes]] = []
        for number, entry in enumerate(text[len(_TEXT_PREFIX) :].split(","), 1):
            # Messages name the entry and the problem, never the secret.
            key_id, sep, secret = entry.strip().partition(".")
            where = f"key ring entry {number}"
            if not sep or not (key_id.isascii() and key_id.isdigit()):
                raise ConfigurationError(
                    f"{where} is not KEY-ID.SECRET (a key id 0-255, a dot, the secret)",
                    field="keys",
                )
            if int(key_id) > 255:
                raise ConfigurationError(f"{where}: key id {key_id} is not 0-255", field="keys")
            try:
                raw = b64url_decode(secret)
            except ValueError:
                raise ConfigurationError(
                    f"{where} (key id {key_id}): the secret is not unpadded base64url",
                    field="keys",
                ) from None
            pairs.append((int(key_id), raw))
        return cls(pairs)

    def to_string(self) -> str:
        """Return the text form (for an environment variable or a config file).

        It contains the secrets: keep it where you keep passwords.
        """
        ordered = [self._primary, *(k for k in self._secrets if k != self._primary)]
        return _TEXT_PREFIX + ",".join(f"{k}.{_b64encode(self._secrets[k])}" for k in ordered)

    def __repr__(self) -> str:
        return f"KeyRing(key_ids={self.key_ids!r}, primary={self._primary})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KeyRing):
            return NotImplemented
        return self._primary == other._primary and self._secrets == other._secrets

    def __hash__(self) -> int:
        return hash((self._primary, tuple(sorted(self._secrets.items()))))

    def __len__(self) -> int:
        return len(self._secrets)

    def __iter__(self) -> Iterator[int]:
        return iter(self._secrets)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._secrets

    @property
    def primary_id(self) -> int:
        """The key id that seals new tokens."""
        return self._primary

    @property
    def key_ids(self) -> tuple[int, ...]:
        """All key ids, in insertion order."""
        return tuple(self._secrets)

    def secret(self, key_id: int) -> bytes:
        """Return the secret stored under ``key_id``.

        Raises:
            KeyError: ``key_id`` is not in the ring.
        """
        return self._secrets[key_id]

    def rotate(self, secret: bytes | None = None, *, key_id: int | None = None) -> KeyRing:
        """Return a new ring whose primary is a new key; the old keys still open tokens.

        Args:
            secret: The new secret; a random 32-byte one when omitted.
            key_id: The new key's id; by default the next free id after the
                current primary (wrapping at 255).

        Raises:
            ConfigurationError: ``key_id`` is taken, or all 256 ids are.
        """
        if key_id is None:
            free = [(self._primary + n) % 256 for n in range(1, 257)]
            key_id = next((k for k in free if k not in self._secrets), None)
            if key_id is None:
                raise ConfigurationError("all 256 key ids are in use", field="keys")
        if key_id in self._secrets:
            raise ConfigurationError(f"key id {key_id} is already in the ring", field="keys")
        new = {key_id: secret if secret is not None else secrets.token_bytes(SECRET_SIZE)}
        new.update(self._secrets)
        return KeyRing(new, primary=key_id)

    def without(self, key_id: int) -> KeyRing:
        """Return a new ring without ``key_id`` (tokens sealed with it stop opening).

        Raises:
            ConfigurationError: ``key_id`` is the primary key.
        """
        if key_id == self._primary:
            raise ConfigurationError("cannot remove the primary key; rotate first", field="keys")
        return KeyRing(
            {k: v for k, v in self._secrets.items() if k != key_id}, primary=self._primary
        )

    def subkey(self, key_id: int, purpose: str, length: int = 32) -> bytes:
        """Derive the subkey of ``key_id`` for ``purpose`` (a cipher name) with HKDF.

        Raises:
            KeyError: ``key_id`` is not in the ring.
        """
        return derive_subkey(self._secrets[key_id], purpose, length)
