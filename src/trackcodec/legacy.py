"""pytracking 0.2.x token formats, to read (and, for the compat module, write) them.

pytracking put ``json.dumps(data)`` in the URL either as padded urlsafe base64
("plain": anyone can read and forge it, it starts with ``eyJ``) or as a
standard Fernet token (starts with ``gAAAAA``). trackcodec reads both when a
tracker is configured to, so links sent by pytracking keep working.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Literal

from trackcodec.ciphers.fernet import decode_fernet_text, fernet_decrypt, fernet_encrypt
from trackcodec.codec import TokenInfo
from trackcodec.errors import (
    BadSignature,
    ConfigurationError,
    InvalidToken,
    MalformedToken,
    PayloadError,
    TokenExpired,
)
from trackcodec.serializers.json import check_no_lone_surrogates
from trackcodec.wire import b64url_decode, check_nesting

LegacyMode = Literal["none", "fernet", "plain"]

__all__ = [
    "LegacyMode",
    "decode_legacy",
    "decode_plain",
    "dumps_fernet",
    "dumps_plain",
    "is_legacy_fernet",
    "is_legacy_plain",
    "loads_fernet",
    "parse_fernet_key",
]

PLAIN_PREFIX = "eyJ"  # base64 of '{"'
EMPTY_PLAIN = "e30"  # base64 of "{}", without padding
FERNET_PREFIX = "gAAAAA"  # base64 of the 0x80 version byte and a timestamp's high bytes


def is_legacy_plain(token: str) -> bool:
    """Whether ``token`` looks like a pytracking plain token."""
    # "e30=" is "{}": pytracking's open URL without metadata, webhook or defaults.
    return token.startswith(PLAIN_PREFIX) or token.rstrip("=") == EMPTY_PLAIN


def is_legacy_fernet(token: str) -> bool:
    """Whether ``token`` looks like a Fernet token."""
    return token.startswith(FERNET_PREFIX)


def parse_fernet_key(key: str | bytes) -> bytes:
    """Decode a Fernet key (44 characters of urlsafe base64) to its 32 bytes.

    Raises:
        ConfigurationError: The key is not a Fernet key.
    """
    try:
        raw = b64url_decode(key.strip())
    except ValueError as exc:
        raise ConfigurationError(
            "a Fernet key is urlsafe base64", field="legacy_fernet_keys"
        ) from exc
    if len(raw) != 32:
        raise ConfigurationError("a Fernet key holds 32 bytes", field="legacy_fernet_keys")
    return raw


def _json_object(data: bytes, encoding: str) -> dict[str, Any]:
    try:
        text = data.decode(encoding)
        obj = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise PayloadError("legacy token payload is not JSON") from exc
    if not isinstance(obj, dict):
        raise PayloadError("legacy token payload is not a JSON object")
    try:
        check_no_lone_surrogates(text, obj)
    except (ValueError, RecursionError) as exc:
        raise PayloadError("legacy token payload holds a lone UTF-16 surrogate") from exc
    return obj


def dumps_plain(data: dict[str, Any], encoding: str = "utf-8") -> str:
    """Encode like pytracking without a key: padded urlsafe base64 of ``json.dumps``."""
    return base64.urlsafe_b64encode(json.dumps(data).encode(encoding)).decode(encoding)


def decode_plain(token: str, *, encoding: str = "utf-8") -> dict[str, Any]:
    """Decode a pytracking plain token. It is NOT authenticated: anyone can forge one.

    Raises:
        MalformedToken: Not urlsafe base64.
        PayloadError: Not a JSON object.
    """
    try:
        if not token:
            raise ValueError("empty")
        raw = b64url_decode(token)
    except ValueError as exc:
        raise MalformedToken("legacy token is not urlsafe base64") from exc
    return _json_object(raw, encoding)


def dumps_fernet(data: dict[str, Any], key: bytes, encoding: str = "utf-8") -> str:
    """Encode like pytracking with a Fernet key: a standard Fernet token of ``json.dumps``."""
    token = fernet_encrypt(key, json.dumps(data).encode(encoding))
    return base64.urlsafe_b64encode(token).decode("ascii")


def loads_fernet(
    token: str,
    keys: list[bytes] | tuple[bytes, ...],
    *,
    encoding: str = "utf-8",
    ttl: int | None = None,
    now: float | None = None,
) -> tuple[dict[str, Any], int]:
    """Decode a pytracking Fernet token with any of ``keys`` (raw 32-byte Fernet keys).

    Args:
        token: The Fernet token text.
        keys: Raw Fernet keys to try, in order.
        encoding: Text encoding of the JSON inside.
        ttl: Maximum age in seconds (Fernet tokens carry their issue time).
        now: The current time for ``ttl``; the clock when omitted.

    Returns:
        The payload, and the token's issue time (Unix seconds), authenticated.

    Raises:
        InvalidToken: A subclass: malformed, or no key authenticates it.
    """
    raw = decode_fernet_text(token)
    error: InvalidToken = MalformedToken("no Fernet key configured")
    for key in keys:
        try:
            plaintext = fernet_decrypt(key, raw, ttl=ttl, now=None if now is None else int(now))
        except (BadSignature, MalformedToken) as exc:
            error = exc
            continue
        return _json_object(plaintext, encoding), int.from_bytes(raw[1:9], "big")
    raise error


def decode_legacy(
    token: str,
    *,
    accept: LegacyMode,
    fernet_keys: tuple[bytes, ...] = (),
    ttl: int | None = None,
    now: float | None = None,
    max_depth: int = 32,
) -> TokenInfo | None:
    """Decode ``token`` if it is a pytracking token of the kind ``accept`` allows.

    The one reader of pytracking tokens, for the tracker and the CLI.

    Args:
        token: The token text.
        accept: ``"plain"``, ``"fernet"`` or ``"none"``.
        fernet_keys: Raw Fernet keys (see `parse_fernet_key`).
        ttl: Refuse tokens older than this (plain tokens, which carry no
            time, are then always refused).
        now: The current time for ``ttl``; the clock when omitted.
        max_depth: Deepest nesting accepted in the payload.

    Returns:
        The decoded token (``legacy=True``, ``key_id=None``, ``version=0``),
        or ``None`` when it does not look like an accepted pytracking token.

    Raises:
        InvalidToken: A subclass: it looks like one, but does not decode.
    """
    if accept == "plain" and is_legacy_plain(token):
        if ttl is not None:
            raise TokenExpired("legacy plain tokens carry no issue time; ttl refuses them")
        data = decode_plain(token)
        check_nesting(data, max_depth)
        return TokenInfo(data, "json", "none", "plain", None, None, False, False, 0, True)
    if accept == "fernet" and is_legacy_fernet(token):
        data, issued_at = loads_fernet(token, fernet_keys, ttl=ttl, now=now)
        check_nesting(data, max_depth)
        return TokenInfo(data, "json", "none", "fernet", None, issued_at, True, True, 0, True)
    return None
