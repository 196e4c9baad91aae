"""The codec: payload mapping to compact URL-safe token and back.

Token format, version 1 (all of the header is authenticated):

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
"""

from __future__ import annotations

import binascii
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from trackcodec import registry
from trackcodec.ciphers import AESSIVCipher, InsecurePlainCipher
from trackcodec.compressors import DeflateCompressor
from trackcodec.errors import (
    BadSignature,
    ConfigurationError,
    InvalidToken,
    LimitExceeded,
    MalformedToken,
    MissingDependencyError,
    PayloadError,
    TokenExpired,
    UnknownKey,
    UnsupportedToken,
)
from trackcodec.keys import KeyRing
from trackcodec.protocols import Cipher, CipherFactory, Compressor, Serializer

__all__ = ["FORMAT_VERSION", "Codec", "Limits", "TokenHeader", "TokenInfo"]

FORMAT_VERSION = 1
_VERSION_BITS = FORMAT_VERSION << 4
_FLAG_TIMESTAMP = 0x04
_FLAG_RESERVED = 0x08
_COMPRESSOR_MASK = 0x03
_HEADER_SIZE = 3
_TIMESTAMP_SIZE = 4

_B64_TOKEN = re.compile(rb"[A-Za-z0-9_-]+")
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
    """Decode unpadded base64url text.

    Raises:
        MalformedToken: ``text`` is empty, has a character outside the
            base64url alphabet, or has an impossible length.
    """
    data = text.encode("ascii", "replace")
    tail = len(data) % 4
    if (
        tail == 1
        or not _B64_TOKEN.fullmatch(data)
        or (tail and data[-1] not in _CANONICAL_LAST[tail])
    ):
        raise MalformedToken("token is not canonical unpadded base64url")
    return binascii.a2b_base64(data.translate(_B64_DECODE) + _PADDING[len(data) % 4])


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
            if getattr(self, name) < 1:
                raise ConfigurationError(f"{name} must be positive", field=name)
        if self.max_depth > 256:
            raise ConfigurationError("max_depth is at most 256", field="max_depth")


class TokenHeader(NamedTuple):
    """The clear-text header of a token, read without checking anything else.

    Only for display (the ``trackcodec decode --explain`` command): nothing in
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

    @classmethod
    def parse(cls, token: str) -> TokenHeader:
        """Parse the header of ``token``.

        Raises:
            MalformedToken: The token is not base64url or is too short.
            UnsupportedToken: The format version is not 1.
        """
        return _parse_header(b64decode(token))


def _parse_header(raw: bytes) -> TokenHeader:
    if len(raw) < _HEADER_SIZE:
        raise MalformedToken("token is shorter than its header")
    first = raw[0]
    if first >> 4 != FORMAT_VERSION:
        raise UnsupportedToken(f"unknown token format version {first >> 4}")
    if first & _FLAG_RESERVED:
        raise MalformedToken("token sets a reserved header flag")
    size = _HEADER_SIZE
    issued_at = None
    if first & _FLAG_TIMESTAMP:
        size += _TIMESTAMP_SIZE
        if len(raw) < size:
            raise MalformedToken("token is shorter than its header")
        issued_at = int.from_bytes(raw[_HEADER_SIZE:size], "big")
    return TokenHeader(
        FORMAT_VERSION,
        raw[1] >> 4,
        first & _COMPRESSOR_MASK,
        raw[1] & 0x0F,
        raw[2],
        issued_at,
        size,
        len(raw) - size,
    )


class TokenInfo(NamedTuple):
    """A decoded token: its payload and how it was made.

    Attributes:
        payload: The deserialized payload.
        serializer: Registry name of the serializer the token used.
        compressor: Registry name of the compressor used (``"none"`` if not compressed).
        cipher: Registry name of the cipher.
        key_id: Id of the key that sealed the token.
        issued_at: Issue time (Unix seconds) when the token carries one.
        authenticated: Whether the token's integrity was verified.
        encrypted: Whether the payload was encrypted.
        version: Token format version.
    """

    payload: dict[str, Any]
    serializer: str
    compressor: str
    cipher: str
    key_id: int
    issued_at: int | None
    authenticated: bool
    encrypted: bool
    version: int = FORMAT_VERSION


class _Route(NamedTuple):
    """How to open the tokens sharing a 3-byte header: resolved once, then cached."""

    open: Callable[..., bytes]
    decompress: Callable[..., bytes] | None
    loads: Callable[[bytes], dict[str, Any]]
    header_size: int
    key_id: int
    serializer: str
    compressor: str
    cipher: str
    authenticated: bool
    encrypted: bool


def _raiser(error: InvalidToken) -> Callable[..., Any]:
    """A stand-in stage that raises ``error`` when the token gets that far."""

    def stage(*args: Any, **kwargs: Any) -> Any:
        raise error

    return stage


def _check_depth(container: dict[str, Any] | list[Any], budget: int) -> None:
    """Raise `LimitExceeded` if lists and dicts nest more than ``budget`` levels below."""
    for child in container.values() if type(container) is dict else container:
        if type(child) is dict or type(child) is list:
            if budget <= 1:
                raise LimitExceeded("payload nests deeper than the limit")
            _check_depth(child, budget - 1)


_SCALARS = frozenset({str, int, float, bool, type(None), bytes})


def _check_payload(obj: Any, budget: int) -> None:
    """Encode-side twin of `_check_depth`: also refuses keys that are not strings.

    Raises:
        TypeError: A mapping key is not a ``str`` (it would not survive a round trip).
        ValueError: Lists and mappings nest more than ``budget`` levels below ``obj``.
    """
    if type(obj) is dict or isinstance(obj, Mapping):
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
            if budget <= 1:
                raise ValueError("payload nests too deep")
            _check_payload(child, budget - 1)


class Codec:
    """Encodes payload mappings to tokens and decodes tokens back.

    The codec encodes with one serializer, compressor and cipher, and decodes
    every token made with any registered combination, reading the token's
    header, as long as its key is in the ring. Changing settings never breaks
    links already sent.

    Args:
        keys: The key ring (or its text form). Required unless the cipher is
            `InsecurePlainCipher`.
        serializer: Defaults to `MsgpackSerializer`.
        compressor: Defaults to `DeflateCompressor`; its output is kept only
            when shorter. Pass `NoCompressor` to never compress.
        cipher: A `CipherFactory` (a cipher class); defaults to `AESSIVCipher`.
        timestamp: Write the issue time into every token (4 bytes), which
            `decode` needs to enforce ``max_age``.
        limits: Caps applied when decoding (and checked when encoding, so that
            no token is minted that would be refused).
        accept_unauthenticated: Decode plain (unauthenticated, forgeable)
            tokens even though this codec's cipher authenticates. Leave off.

    Raises:
        ConfigurationError: Keys are missing for an authenticating cipher.
        MissingDependencyError: A chosen backend's extra is not installed.

    Examples:
        >>> codec = Codec(keys=KeyRing.generate(), serializer=JSONSerializer(),
        ...               cipher=HMACCipher)
        >>> codec.decode(codec.encode({"customer_id": 7}))
        {'customer_id': 7}
    """

    def __init__(
        self,
        *,
        keys: KeyRing | str | None = None,
        serializer: Serializer | None = None,
        compressor: Compressor | None = None,
        cipher: CipherFactory | None = None,
        timestamp: bool = False,
        limits: Limits | None = None,
        accept_unauthenticated: bool = False,
    ) -> None:
        if isinstance(keys, str):
            keys = KeyRing.from_string(keys)
        if serializer is None:
            serializer = registry.serializer_factory("msgpack")()
        self.serializer = serializer
        self.compressor: Compressor = DeflateCompressor() if compressor is None else compressor
        self.cipher_factory: CipherFactory = AESSIVCipher if cipher is None else cipher
        self.keys = keys
        self.timestamp = timestamp
        self.limits = Limits() if limits is None else limits

        if keys is None:
            sealer = self.cipher_factory(b"")
            if sealer.authenticated:
                raise ConfigurationError(f"cipher {sealer.name!r} needs keys", field="keys")
            key_id = 0
        else:
            key_id = keys.primary_id
            sealer = self.cipher_factory(keys.secret(key_id))
        self.cipher: Cipher = sealer
        self.accept_unauthenticated = accept_unauthenticated or not sealer.authenticated
        for kind, backend, top in (("serializer", serializer, 15), ("cipher", sealer, 15)):
            if not 0 <= backend.id <= top:
                raise ConfigurationError(f"{kind} id must be 0-{top}", field=kind)
        if not 0 <= self.compressor.id <= 3:
            raise ConfigurationError("compressor id must be 0-3", field="compressor")

        self._seal = sealer.seal
        self._dumps = serializer.dumps
        self._key_id = key_id
        self._ids = (serializer.id << 4) | sealer.id
        self._compress = self.compressor.compress if self.compressor.id else None
        self._min_compress = self.compressor.min_size
        self._header = bytes((_VERSION_BITS, self._ids, key_id))
        self._header_compressed = bytes((_VERSION_BITS | self.compressor.id, self._ids, key_id))
        self._ciphers: dict[int, Cipher] = {(sealer.id << 8) | key_id: sealer}
        self._compressors: dict[int, Compressor] = {self.compressor.id: self.compressor}
        self._serializers: dict[int, Serializer] = {serializer.id: serializer}
        self._routes: dict[bytes, _Route] = {}

    @classmethod
    def default(cls, keys: KeyRing | str, **options: Any) -> Codec:
        """The recommended codec: msgpack, deflate when shorter, AES-SIV.

        Args:
            keys: The key ring or its text form.
            **options: Other `Codec` keyword arguments (``timestamp``, ``limits``...).

        Raises:
            MissingDependencyError: ``trackcodec[msgpack,crypto]`` is not installed.
        """
        return cls.from_names(keys=keys, **options)

    @classmethod
    def from_names(
        cls,
        *,
        serializer: str = "msgpack",
        compressor: str = "deflate",
        cipher: str = "aes-siv",
        keys: KeyRing | str | None = None,
        model: Any = None,
        **options: Any,
    ) -> Codec:
        """Build a codec from registry names (as configuration files and the CLI do).

        Args:
            serializer: ``json``, ``msgpack``, ``schema`` or a registered name.
            compressor: ``none``, ``deflate``, ``deflate-dict`` or a registered name.
            cipher: ``aes-siv``, ``xchacha20``, ``secretbox``, ``fernet``,
                ``hmac``, ``plain`` or a registered name.
            keys: The key ring or its text form.
            model: The pydantic model of the ``schema`` serializer.
            **options: Other `Codec` keyword arguments.

        Raises:
            ConfigurationError: An unknown name, or ``schema`` without a model.
            MissingDependencyError: A chosen backend's extra is not installed.
        """
        serializer_factory = registry.serializer_factory(serializer)
        if serializer == "schema":
            if model is None:
                raise ConfigurationError("the schema serializer needs a model", field="model")
            built = serializer_factory(model)
        else:
            built = serializer_factory()
        return cls(
            keys=keys,
            serializer=built,
            compressor=registry.compressor_factory(compressor)(),
            cipher=registry.cipher_factory(cipher),
            **options,
        )

    def __repr__(self) -> str:
        return (
            f"Codec(serializer={self.serializer.name!r}, compressor={self.compressor.name!r}, "
            f"cipher={self.cipher.name!r}, keys={self.keys!r}, timestamp={self.timestamp})"
        )

    # -- encoding -----------------------------------------------------------------

    def encode(self, payload: Mapping[str, Any], *, now: float | None = None) -> str:
        """Serialize, compress when shorter, seal and base64url-encode ``payload``.

        Args:
            payload: A mapping the serializer can carry.
            now: Issue time for the timestamp (Unix seconds); the clock when
                omitted. Only used when the codec writes timestamps.

        Returns:
            The token, unpadded base64url.

        Raises:
            TypeError: The payload holds a value the serializer cannot carry.
            ValueError: The payload or token would exceed this codec's limits.
        """
        if type(payload) is not dict and not isinstance(payload, Mapping):
            raise TypeError(f"a payload is a mapping, not {type(payload).__name__}")
        limits = self.limits
        try:
            _check_payload(payload, limits.max_depth)
        except ValueError:
            raise ValueError(f"payload nests deeper than max_depth={limits.max_depth}") from None
        data = self._dumps(payload)
        if len(data) > limits.max_payload_size:
            raise ValueError(f"payload is larger than {limits.max_payload_size} bytes")
        header = self._header
        if self._compress is not None and len(data) >= self._min_compress:
            packed = self._compress(data)
            if len(packed) < len(data):
                data = packed
                header = self._header_compressed
        if self.timestamp:
            moment = time.time() if now is None else now
            if not 0 <= moment < 2**32:  # also refuses NaN and infinities
                raise ValueError("issue time must be between 1970 and 2106")
            stamp = int(moment)
            if not 0 <= stamp < 2**32:
                raise ValueError("issue time must be between 1970 and 2106")
            header = bytes((header[0] | _FLAG_TIMESTAMP, *header[1:])) + stamp.to_bytes(4, "big")
        token = b64encode(header + self._seal(data, header=header))
        if len(token) > self.limits.max_token_length:
            raise ValueError(
                f"token is {len(token)} characters, over max_token_length="
                f"{self.limits.max_token_length}; shorten the payload or raise the limit"
            )
        return token

    # -- decoding -----------------------------------------------------------------

    def decode(
        self, token: str, *, max_age: float | None = None, now: float | None = None
    ) -> dict[str, Any]:
        """Decode a token to its payload.

        Args:
            token: The token text.
            max_age: Refuse tokens issued more than this many seconds before
                ``now`` (and tokens without an issue time).
            now: The current time (Unix seconds); the clock when omitted.

        Returns:
            The payload.

        Raises:
            InvalidToken: Any subclass; nothing else for any ``str`` input.
        """
        return self.decode_token(token, max_age=max_age, now=now).payload

    def decode_token(
        self, token: str, *, max_age: float | None = None, now: float | None = None
    ) -> TokenInfo:
        """Decode a token to its payload and a description of how it was made.

        Same arguments and errors as `decode`.
        """
        payload, route, issued_at = self._open_token(token, max_age, now)
        return TokenInfo(
            payload,
            route.serializer,
            route.compressor,
            route.cipher,
            route.key_id,
            issued_at,
            route.authenticated,
            route.encrypted,
        )

    def _open_token(
        self, token: str, max_age: float | None, now: float | None
    ) -> tuple[dict[str, Any], _Route, int | None]:
        """Decode ``token``: its payload, the route that opened it, its issue time."""
        limits = self.limits
        if not isinstance(token, str):
            raise MalformedToken(f"a token is a str, not {type(token).__name__}")
        if len(token) > limits.max_token_length:
            raise LimitExceeded(f"token is longer than {limits.max_token_length} characters")
        raw = b64decode(token)
        route = self._routes.get(raw[:_HEADER_SIZE])
        if route is None:
            route = self._route(raw)
        size = route.header_size
        issued_at = None
        if size != _HEADER_SIZE:
            if len(raw) < size:
                raise MalformedToken("token is shorter than its header")
            issued_at = int.from_bytes(raw[_HEADER_SIZE:size], "big")
        try:
            data = route.open(raw[size:], header=raw[:size])
        except InvalidToken:
            raise
        except Exception as exc:
            raise BadSignature("token failed authentication") from exc

        if max_age is not None:
            if issued_at is None:
                raise TokenExpired("token carries no issue time, so its age is unknown")
            current = time.time() if now is None else now
            if current - issued_at > max_age:
                raise TokenExpired("token has expired", issued_at=issued_at)

        if route.decompress is not None:
            data = route.decompress(data, max_size=limits.max_payload_size)
        elif len(data) > limits.max_payload_size:
            raise LimitExceeded(f"payload is larger than {limits.max_payload_size} bytes")
        try:
            payload = route.loads(data)
        except InvalidToken:
            raise
        except Exception as exc:  # ValueError, RecursionError, msgpack's own errors...
            raise PayloadError(f"payload does not deserialize: {exc}") from exc
        # Each level below the top costs at least one byte (the schema
        # serializer's top level costs none), so short payloads cannot be too deep.
        if len(data) >= limits.max_depth:
            _check_depth(payload, limits.max_depth)
        return payload, route, issued_at

    def _route(self, raw: bytes) -> _Route:
        """Resolve (and remember) how to open tokens whose header starts like ``raw``."""
        head = _parse_header(raw)
        cipher = self._opener(head.cipher_id, head.key_id)
        # A compressor or serializer this codec lacks is reported only once the
        # token has authenticated: a forged header must read as a forgery.
        unsupported: UnsupportedToken | None = None
        decompress: Callable[..., bytes] | None = None
        compressor_name = "none"
        if head.compressor_id:
            try:
                compressor = self._decompressor(head.compressor_id)
            except UnsupportedToken as exc:
                unsupported = exc
            else:
                decompress, compressor_name = compressor.decompress, compressor.name
        loads: Callable[[bytes], dict[str, Any]]
        serializer_name = ""
        try:
            serializer = self._deserializer(head.serializer_id)
        except UnsupportedToken as exc:
            unsupported = unsupported or exc
        else:
            loads, serializer_name = serializer.loads, serializer.name
        if unsupported is not None:
            # Reported at the first stage the codec lacks, as when resolved per token.
            if decompress is None and head.compressor_id:
                decompress = _raiser(unsupported)
            loads = _raiser(unsupported)
        route = _Route(
            cipher.open,
            decompress,
            loads,
            head.header_size,
            head.key_id,
            serializer_name,
            compressor_name,
            cipher.name,
            cipher.authenticated,
            cipher.encrypted,
        )
        if unsupported is None:
            # Only headers that resolved are kept: at most one entry per combination
            # of registered backends and keys in the ring, whatever an attacker sends.
            self._routes[raw[:_HEADER_SIZE]] = route
        return route

    def _opener(self, cipher_id: int, key_id: int) -> Cipher:
        cipher = self._ciphers.get((cipher_id << 8) | key_id)
        if cipher is not None:
            return cipher
        if cipher_id == self.cipher.id:
            factory = self.cipher_factory
        else:
            entry = registry.cipher_by_id(cipher_id)
            if entry is None:
                raise UnsupportedToken(f"unknown cipher id {cipher_id}")
            factory = entry[1]
        if self.keys is not None and key_id in self.keys:
            secret = self.keys.secret(key_id)
        elif cipher_id == InsecurePlainCipher.id:
            secret = b""
        else:
            raise UnknownKey(f"key id {key_id} is not in the key ring")
        try:
            cipher = factory(secret)
        except MissingDependencyError as exc:
            raise UnsupportedToken(str(exc)) from exc
        if not cipher.authenticated and not self.accept_unauthenticated:
            raise BadSignature("unauthenticated tokens are not accepted")
        self._ciphers[(cipher_id << 8) | key_id] = cipher
        return cipher

    def _decompressor(self, compressor_id: int) -> Compressor:
        compressor = self._compressors.get(compressor_id)
        if compressor is None:
            entry = registry.compressor_by_id(compressor_id)
            if entry is None:
                raise UnsupportedToken(f"unknown compressor id {compressor_id}")
            try:
                compressor = entry[1]()
            except MissingDependencyError as exc:
                raise UnsupportedToken(str(exc)) from exc
            self._compressors[compressor_id] = compressor
        return compressor

    def _deserializer(self, serializer_id: int) -> Serializer:
        serializer = self._serializers.get(serializer_id)
        if serializer is None:
            entry = registry.serializer_by_id(serializer_id)
            if entry is None:
                raise UnsupportedToken(f"unknown serializer id {serializer_id}")
            try:
                serializer = entry[1]()
            except MissingDependencyError as exc:
                raise UnsupportedToken(str(exc)) from exc
            except TypeError as exc:  # e.g. the schema serializer needs its model
                raise UnsupportedToken(
                    f"{entry[0]} tokens need a codec configured with that serializer"
                ) from exc
            self._serializers[serializer_id] = serializer
        return serializer
