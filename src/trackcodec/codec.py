"""The codec: payload mapping to compact URL-safe token and back.

The bytes of a token (header, ids, base64url text, limits) are described in
`trackcodec.wire`; a `Codec` assembles one serializer, one compressor and one
cipher around that format.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from trackcodec import registry
from trackcodec.ciphers import AESSIVCipher, InsecurePlainCipher
from trackcodec.compressors import DeflateCompressor
from trackcodec.errors import (
    BadSignature,
    ConfigurationError,
    EncodeError,
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
from trackcodec.serializers import JSONSerializer, MsgpackSerializer
from trackcodec.wire import (
    FORMAT_VERSION,
    HEADER_SIZE,
    MAX_COMPRESSOR_ID,
    MAX_ID,
    Limits,
    TokenHeader,
    b64decode,
    b64encode,
    check_nesting,
    header_bytes,
    parse_header,
    with_issue_time,
)

__all__ = [
    "DEFAULT_CLOCK_SKEW",
    "FORMAT_VERSION",
    "Codec",
    "Limits",
    "TokenHeader",
    "TokenInfo",
    "b64decode",
    "b64encode",
]

DEFAULT_CLOCK_SKEW = 60.0
"""Seconds a token's issue time may lie in the future (clocks of minting and
decoding nodes differ) before a decoder enforcing an age refuses it."""

_KEYS_HINT = (
    "make a ring with `trackcodec keygen` and pass it as keys= or in TRACKCODEC_KEYS "
    "(in tests: keys=KeyRing.generate())"
)


class TokenInfo(NamedTuple):
    """A decoded token: its payload and how it was made.

    Attributes:
        payload: The deserialized payload.
        serializer: Registry name of the serializer the token used.
        compressor: Registry name of the compressor used (``"none"`` if not compressed).
        cipher: Registry name of the cipher.
        key_id: Id of the key that sealed the token (``None`` for pytracking tokens).
        issued_at: Issue time (Unix seconds) when the token carries one.
        authenticated: Whether the token's integrity was verified.
        encrypted: Whether the payload was encrypted.
        version: Token format version (0 for pytracking tokens).
        legacy: Whether pytracking minted the token (see `trackcodec.legacy`).
    """

    payload: dict[str, Any]
    serializer: str
    compressor: str
    cipher: str
    key_id: int | None
    issued_at: int | None
    authenticated: bool
    encrypted: bool
    version: int = FORMAT_VERSION
    legacy: bool = False


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
    # The bytes that cannot open a container, for serializers where every list
    # or mapping starts with a byte of its own (None: unknown, for others).
    not_containers: bytes | None


def _all_but(openers: bytes) -> bytes:
    return bytes(b for b in range(256) if b not in openers)


# JSON opens lists and objects with "[" and "{"; msgpack with fixmap, fixarray,
# array 16/32 and map 16/32 headers. Those bytes inside strings only add to the count.
_NOT_CONTAINERS: dict[type, bytes] = {
    JSONSerializer: _all_but(b"[{"),
    MsgpackSerializer: _all_but(bytes(range(0x80, 0xA0)) + b"\xdc\xdd\xde\xdf"),
}


def _raiser(error: InvalidToken) -> Callable[..., Any]:
    """A stand-in stage that raises ``error`` when the token gets that far."""

    def stage(*args: Any, **kwargs: Any) -> Any:
        raise error

    return stage


def _require_backend(kind: str, backend: Any, methods: tuple[str, ...]) -> None:
    """A `TypeError` naming the argument when ``backend`` is not a backend instance."""
    if isinstance(backend, str):
        raise TypeError(
            f"{kind}= takes a {kind} instance; for a registry name ({backend!r}) "
            "use Codec.from_names"
        )
    missing = [m for m in ("id", "name", *methods) if not hasattr(backend, m)]
    if missing or isinstance(backend, type):
        raise TypeError(
            f"{kind}= must be a {kind} instance (with {', '.join(('id', 'name', *methods))}), "
            f"not {backend!r}"
        )


class Codec:
    """Encodes payload mappings to tokens and decodes tokens back.

    The codec encodes with one serializer, compressor and cipher, and decodes
    every token made with any combination of the backends registered when it
    is built (an explicit set, as MultiFernet's keys are: registering later
    changes no codec already built), reading the token's header, as long as
    its key is in the ring. Changing settings never breaks links already
    sent. A codec is immutable: its attributes are read-only, and it is safe
    to share between threads.

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
        TypeError: An argument of the wrong type (a name where an instance
            belongs, say), naming the argument.

    Examples:
        >>> codec = Codec(keys=KeyRing.generate(), serializer=JSONSerializer(),
        ...               cipher=HMACCipher)
        >>> codec.decode(codec.encode({"customer_id": 7}))
        {'customer_id': 7}
    """

    __slots__ = (
        "__weakref__",
        "_accept_unauthenticated",
        "_cipher",
        "_cipher_factory",
        "_ciphers",
        "_compress",
        "_compressor",
        "_compressors",
        "_dumps",
        "_header",
        "_header_compressed",
        "_keys",
        "_known",
        "_limits",
        "_min_compress",
        "_routes",
        "_seal",
        "_serializer",
        "_serializers",
        "_timestamp",
    )

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
        elif keys is not None and not isinstance(keys, KeyRing):
            raise TypeError(f"keys= must be a KeyRing or its text form, not {type(keys).__name__}")
        if serializer is None:
            serializer = registry.serializer_factory("msgpack")()
        _require_backend("serializer", serializer, ("dumps", "loads"))
        if compressor is None:
            compressor = DeflateCompressor()
        _require_backend("compressor", compressor, ("compress", "decompress"))
        if cipher is None:
            cipher = AESSIVCipher
        elif isinstance(cipher, str) or not callable(cipher):
            raise TypeError(
                f"cipher= takes a cipher class (a CipherFactory), not {cipher!r}; "
                "for a registry name use Codec.from_names"
            )
        if limits is not None and not isinstance(limits, Limits):
            raise TypeError(f"limits= must be a Limits, not {type(limits).__name__}")

        if keys is None:
            sealer = cipher(b"")
            if sealer.authenticated:
                raise ConfigurationError(
                    f"cipher {sealer.name!r} needs keys: {_KEYS_HINT}", field="keys"
                )
            key_id = 0
        else:
            key_id = keys.primary_id
            sealer = cipher(keys.secret(key_id))
        for kind, backend, top in (
            ("serializer", serializer, MAX_ID),
            ("cipher", sealer, MAX_ID),
            ("compressor", compressor, MAX_COMPRESSOR_ID),
        ):
            if not 0 <= backend.id <= top:
                raise ConfigurationError(f"{kind} id must be 0-{top}", field=kind)

        self._serializer = serializer
        self._compressor = compressor
        self._cipher_factory = cipher
        self._cipher: Cipher = sealer
        self._keys = keys
        self._timestamp = bool(timestamp)
        self._limits = Limits() if limits is None else limits
        self._accept_unauthenticated = accept_unauthenticated or not sealer.authenticated
        self._seal = sealer.seal
        self._dumps = serializer.dumps
        self._compress = compressor.compress if compressor.id else None
        self._min_compress = compressor.min_size
        self._header = header_bytes(serializer.id, 0, sealer.id, key_id)
        self._header_compressed = header_bytes(serializer.id, compressor.id, sealer.id, key_id)
        self._ciphers: dict[int, Cipher] = {(sealer.id << 8) | key_id: sealer}
        self._compressors: dict[int, Compressor] = {compressor.id: compressor}
        self._serializers: dict[int, Serializer] = {serializer.id: serializer}
        self._routes: dict[bytes, _Route] = {}
        # Like MultiFernet, a codec decodes with an explicit set of backends: those
        # registered when it is built. Decoding never reads the changing registry.
        self._known = registry.known()

    # Read-only views: a codec's configuration is fixed once built.

    @property
    def serializer(self) -> Serializer:
        """The serializer new tokens use."""
        return self._serializer

    @property
    def compressor(self) -> Compressor:
        """The compressor new tokens try (kept only when shorter)."""
        return self._compressor

    @property
    def cipher(self) -> Cipher:
        """The cipher sealing new tokens, keyed with the primary key."""
        return self._cipher

    @property
    def cipher_factory(self) -> CipherFactory:
        """The factory of `cipher`, used for the other keys of the ring."""
        return self._cipher_factory

    @property
    def keys(self) -> KeyRing | None:
        """The key ring (``None`` for the plain cipher)."""
        return self._keys

    @property
    def timestamp(self) -> bool:
        """Whether new tokens carry their issue time."""
        return self._timestamp

    @property
    def limits(self) -> Limits:
        """The caps applied when decoding and checked when encoding."""
        return self._limits

    @property
    def accept_unauthenticated(self) -> bool:
        """Whether plain (unauthenticated) tokens decode."""
        return self._accept_unauthenticated

    @classmethod
    def default(cls, keys: KeyRing | str, **options: Any) -> Codec:
        """The recommended codec: msgpack, deflate when shorter, AES-SIV.

        Args:
            keys: The key ring or its text form.
            **options: Other `Codec` keyword arguments (``timestamp``, ``limits``...).

        Raises:
            MissingDependencyError: ``trackcodec[msgpack,crypto]`` is not installed
                (one error naming both when both are missing).
            TypeError: ``keys`` is neither a `KeyRing` nor its text form.
        """
        if not isinstance(keys, (KeyRing, str)):
            raise TypeError(f"keys must be a KeyRing or its text form, not {type(keys).__name__}")
        return cls.from_names(keys=keys, **options)

    @classmethod
    def from_names(
        cls,
        *,
        serializer: str | Serializer = "msgpack",
        compressor: str | Compressor = "deflate",
        cipher: str | CipherFactory = "aes-siv",
        keys: KeyRing | str | None = None,
        model: Any = None,
        **options: Any,
    ) -> Codec:
        """Build a codec from registry names (as configuration files and the CLI do).

        The one place where names become backends; each of ``serializer``,
        ``compressor`` and ``cipher`` may also be an instance (a factory for
        the cipher), used as is. When several chosen backends miss their
        extras, one error names them all.

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
            MissingDependencyError: Chosen backends' extras are not installed.
        """
        missing: list[MissingDependencyError] = []
        built: dict[str, Any] = {}
        for kind, value, lookup in (
            ("serializer", serializer, registry.serializer_factory),
            ("compressor", compressor, registry.compressor_factory),
        ):
            if not isinstance(value, str):
                built[kind] = value
                continue
            factory = lookup(value)
            args: tuple[Any, ...] = ()
            if kind == "serializer" and value == "schema":
                if model is None:
                    raise ConfigurationError("the schema serializer needs a model", field="model")
                args = (model,)
            try:
                built[kind] = factory(*args)
            except MissingDependencyError as exc:
                missing.append(exc)
        cipher_factory = registry.cipher_factory(cipher) if isinstance(cipher, str) else cipher
        try:
            # Ciphers import their dependency when keyed; a throwaway key finds out.
            cipher_factory(bytes(32))
        except MissingDependencyError as exc:
            missing.append(exc)
        except Exception:  # noqa: S110 - a custom factory's own complaint comes below, keyed
            pass
        if missing:
            raise MissingDependencyError.combine(missing)
        return cls(
            keys=keys,
            serializer=built["serializer"],
            compressor=built["compressor"],
            cipher=cipher_factory,
            **options,
        )

    def __repr__(self) -> str:
        return (
            f"Codec(serializer={self._serializer.name!r}, "
            f"compressor={self._compressor.name!r}, cipher={self._cipher.name!r}, "
            f"keys={self._keys!r}, timestamp={self._timestamp})"
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
            TypeError: The payload is not a mapping, has a key that is not a
                ``str``, or holds a value the serializer cannot carry.
            EncodeError: The payload or token would exceed this codec's limits,
                the issue time is outside 1970-2106, or a string holds a lone
                surrogate.
        """
        if type(payload) is not dict and not isinstance(payload, Mapping):
            raise TypeError(f"a payload is a mapping, not {type(payload).__name__}")
        limits = self._limits
        try:
            check_nesting(payload, limits.max_depth, str_keys=True)
        except LimitExceeded:
            raise EncodeError(f"payload nests deeper than max_depth={limits.max_depth}") from None
        try:
            data = self._dumps(payload)
        except UnicodeEncodeError:  # a lone surrogate ("\udcff"): no UTF-8 for it
            raise EncodeError("payload holds a str that is not valid Unicode") from None
        if len(data) > limits.max_payload_size:
            raise EncodeError(
                f"payload is larger than {limits.max_payload_size} bytes (max_payload_size)"
            )
        header = self._header
        if self._compress is not None and len(data) >= self._min_compress:
            packed = self._compress(data)
            if len(packed) < len(data):
                data = packed
                header = self._header_compressed
        if self._timestamp:
            moment = time.time() if now is None else now
            if not 0 <= moment < 2**32:  # also refuses NaN and infinities
                raise EncodeError("issue time must be between 1970 and 2106")
            header = with_issue_time(header, int(moment))
        token = b64encode(header + self._seal(data, header=header))
        if len(token) > limits.max_token_length:
            raise EncodeError(
                f"token is {len(token)} characters, over max_token_length="
                f"{limits.max_token_length}; shorten the payload or raise the limit"
            )
        return token

    # -- decoding -----------------------------------------------------------------

    def decode(
        self,
        token: str,
        *,
        max_age: float | None = None,
        now: float | None = None,
        clock_skew: float = DEFAULT_CLOCK_SKEW,
    ) -> dict[str, Any]:
        """Decode a token to its payload.

        Args:
            token: The token text.
            max_age: Refuse tokens issued more than this many seconds before
                ``now``, tokens without an issue time, and tokens issued more
                than ``clock_skew`` seconds after ``now``.
            now: The current time (Unix seconds); the clock when omitted.
            clock_skew: How far in the future an issue time may lie, with ``max_age``.

        Returns:
            The payload.

        Raises:
            InvalidToken: Any subclass; nothing else for any ``str`` input.
        """
        return self.decode_token(token, max_age=max_age, now=now, clock_skew=clock_skew).payload

    def decode_token(
        self,
        token: str,
        *,
        max_age: float | None = None,
        now: float | None = None,
        clock_skew: float = DEFAULT_CLOCK_SKEW,
    ) -> TokenInfo:
        """Decode a token to its payload and a description of how it was made.

        Same arguments and errors as `decode`.
        """
        limits = self._limits
        if not isinstance(token, str):
            raise MalformedToken(f"a token is a str, not {type(token).__name__}")
        if len(token) > limits.max_token_length:
            raise LimitExceeded(f"token is longer than {limits.max_token_length} characters")
        raw = b64decode(token)
        route = self._routes.get(raw[:HEADER_SIZE])
        if route is None:
            route = self._route(raw)
        size = route.header_size
        issued_at = None
        if size != HEADER_SIZE:
            if len(raw) < size:
                raise MalformedToken("token is shorter than its header")
            issued_at = int.from_bytes(raw[HEADER_SIZE:size], "big")
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
            if issued_at - current > clock_skew:
                raise TokenExpired(
                    "token is issued in the future, beyond the allowed clock skew",
                    issued_at=issued_at,
                )

        if route.decompress is not None:
            data = route.decompress(data, max_size=limits.max_payload_size)
        elif len(data) > limits.max_payload_size:
            raise LimitExceeded(f"payload is larger than {limits.max_payload_size} bytes")
        try:
            payload = route.loads(data)
        except InvalidToken:
            raise
        except Exception as exc:  # ValueError, RecursionError, msgpack's own errors...
            # The cause is chained, not quoted: its text may hold payload values.
            raise PayloadError(f"payload does not deserialize ({type(exc).__name__})") from exc
        # Each level below the top costs at least one byte (the schema
        # serializer's top level costs none), so short payloads cannot be too deep.
        # Each level below the top costs at least one byte, and with JSON or
        # msgpack one container-opening byte: fewer such bytes, no need to walk.
        if len(data) >= limits.max_depth and (
            route.not_containers is None
            or len(data.translate(None, route.not_containers)) >= limits.max_depth
        ):
            check_nesting(payload, limits.max_depth)
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

    def _route(self, raw: bytes) -> _Route:
        """Resolve (and remember) how to open tokens whose header starts like ``raw``."""
        head = parse_header(raw)
        cipher = self._opener(head.cipher_id, head.key_id)
        # A compressor or serializer this codec lacks is reported only once the
        # token has authenticated: a forged header must read as a forgery.
        unsupported: UnsupportedToken | None = None
        decompress: Callable[..., bytes] | None = None
        compressor_name = "none"
        if head.compressor_id:
            try:
                compressor: Compressor = self._stage("compressor", head.compressor_id)
            except UnsupportedToken as exc:
                unsupported = exc
            else:
                decompress, compressor_name = compressor.decompress, compressor.name
        loads: Callable[[bytes], dict[str, Any]]
        serializer_name = ""
        not_containers = None
        try:
            serializer: Serializer = self._stage("serializer", head.serializer_id)
        except UnsupportedToken as exc:
            unsupported = unsupported or exc
        else:
            loads, serializer_name = serializer.loads, serializer.name
            not_containers = _NOT_CONTAINERS.get(type(serializer))
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
            not_containers,
        )
        if unsupported is None:
            # Only headers that resolved are kept: at most one entry per combination
            # of registered backends and keys in the ring, whatever an attacker sends.
            self._routes[raw[:HEADER_SIZE]] = route
        return route

    def _opener(self, cipher_id: int, key_id: int) -> Cipher:
        cipher = self._ciphers.get((cipher_id << 8) | key_id)
        if cipher is not None:
            return cipher
        if cipher_id == self._cipher.id:
            factory = self._cipher_factory
        else:
            entry = self._known.ciphers.get(cipher_id)
            if entry is None:
                raise UnsupportedToken(f"unknown cipher id {cipher_id}")
            factory = entry[1]
        if self._keys is not None and key_id in self._keys:
            secret = self._keys.secret(key_id)
        elif cipher_id == InsecurePlainCipher.id:
            secret = b""
        else:
            raise UnknownKey(f"key id {key_id} is not in the key ring")
        try:
            cipher = factory(secret)
        except MissingDependencyError as exc:
            raise UnsupportedToken(str(exc)) from exc
        if cipher.id != cipher_id:  # a factory whose ciphers do not carry its id
            raise UnsupportedToken(f"the cipher registered for id {cipher_id} has id {cipher.id}")
        if not cipher.authenticated and not self._accept_unauthenticated:
            raise BadSignature("unauthenticated tokens are not accepted")
        self._ciphers[(cipher_id << 8) | key_id] = cipher
        return cipher

    def _stage(self, kind: str, stage_id: int) -> Any:
        """The compressor or serializer with ``stage_id``: this codec's, or the registry's."""
        cache: dict[int, Any] = self._compressors if kind == "compressor" else self._serializers
        backend = cache.get(stage_id)
        if backend is not None:
            return backend
        known: Mapping[int, tuple[str, Any]] = (
            self._known.compressors if kind == "compressor" else self._known.serializers
        )
        entry = known.get(stage_id)
        if entry is None:
            raise UnsupportedToken(f"unknown {kind} id {stage_id}")
        try:
            backend = entry[1]()
        except MissingDependencyError as exc:
            raise UnsupportedToken(str(exc)) from exc
        except TypeError as exc:  # e.g. the schema serializer needs its model
            raise UnsupportedToken(
                f"{entry[0]} tokens need a codec configured with that {kind}"
            ) from exc
        cache[stage_id] = backend
        return backend
