"""`Tracker`: builds open and click tracking URLs and parses them back."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Generic, TypeVar, cast, overload
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ValidationError, create_model

from trackcodec import legacy, registry
from trackcodec.codec import Codec, Limits, _check_depth
from trackcodec.config import TrackingConfig
from trackcodec.errors import (
    ConfigurationError,
    InvalidToken,
    LimitExceeded,
    MalformedToken,
    PayloadError,
    RedirectNotAllowed,
    TokenExpired,
)
from trackcodec.protocols import CipherFactory, Compressor, Serializer
from trackcodec.redirect import RedirectPolicy
from trackcodec.result import TrackingKind, TrackingResult
from trackcodec.serializers.schema import SchemaSerializer

__all__ = ["Tracker"]

M = TypeVar("M")

# Settings that change how tokens are made; the others can be overridden per
# call without building a new codec.
_CODEC_FIELDS = frozenset(
    {"serializer", "compressor", "cipher", "keys", "timestamp", "ttl", "max_token_length"}
)


def _build_codec(config: TrackingConfig, metadata_model: type[Any] | None) -> Codec:
    serializer: Serializer
    if isinstance(config.serializer, str):
        if config.serializer == "schema":
            serializer = SchemaSerializer(_payload_model(metadata_model))
        else:
            serializer = registry.serializer_factory(config.serializer)()
    else:
        serializer = config.serializer
    compressor: Compressor = (
        registry.compressor_factory(config.compressor)()
        if isinstance(config.compressor, str)
        else config.compressor
    )
    cipher: CipherFactory = (
        registry.cipher_factory(config.cipher) if isinstance(config.cipher, str) else config.cipher
    )
    return Codec(
        keys=config.keys,
        serializer=serializer,
        compressor=compressor,
        cipher=cipher,
        timestamp=config.timestamp or config.ttl is not None,
        limits=Limits(max_token_length=config.max_token_length),
    )


def _payload_model(metadata_model: type[Any] | None) -> type[BaseModel]:
    """The positional layout of a tracking payload: metadata first, then url, webhook."""
    meta: Any = metadata_model if metadata_model is not None else dict[str, Any]
    return create_model(
        "TrackingPayload",
        metadata=(meta | None, None),
        url=(str | None, None),
        webhook=(str | None, None),
    )


def _slashed(base: str | None) -> str | None:
    if base is None:
        return None
    return base if base.endswith(("/", "=")) else base + "/"


class Tracker(Generic[M]):
    """Builds tracking URLs and parses them back, for one configuration.

    Everything fixed by the configuration (codec, keys, base URLs, policies)
    is prepared once, here; build one tracker per configuration and reuse it.
    A tracker is safe to share between threads.

    Args:
        config: The settings; built from ``settings`` when omitted.
        metadata_model: A pydantic model to validate decoded metadata into
            (and to encode positionally with the ``schema`` serializer).
            Without one, metadata is a plain dict.
        **settings: `TrackingConfig` fields, when ``config`` is omitted.

    Raises:
        ConfigurationError: Invalid settings.
        MissingDependencyError: A chosen backend's extra is not installed.

    Examples:
        >>> tracker = Tracker(base_click_tracking_url="https://t.example.com/c/",
        ...                   keys=KeyRing.generate())
        >>> url = tracker.click_url("https://shop.example.com/", {"customer_id": 7})
        >>> tracker.parse_click(url).tracked_url
        'https://shop.example.com/'
    """

    @overload
    def __init__(
        self: Tracker[dict[str, Any]],
        config: TrackingConfig | None = None,
        *,
        metadata_model: None = None,
        **settings: Any,
    ) -> None: ...

    @overload
    def __init__(
        self: Tracker[M],
        config: TrackingConfig | None = None,
        *,
        metadata_model: type[M],
        **settings: Any,
    ) -> None: ...

    def __init__(
        self,
        config: TrackingConfig | None = None,
        *,
        metadata_model: type[Any] | None = None,
        **settings: Any,
    ) -> None:
        if config is None:
            config = TrackingConfig(**settings)
        elif settings:
            raise TypeError("pass either a TrackingConfig or settings, not both")
        if metadata_model is not None and not (
            isinstance(metadata_model, type) and issubclass(metadata_model, BaseModel)
        ):
            raise TypeError("metadata_model must be a pydantic model class")
        self._setup(config, metadata_model, _build_codec(config, metadata_model))

    def _setup(self, config: TrackingConfig, model: type[Any] | None, codec: Codec) -> None:
        self.config = config
        self.codec = codec
        self.metadata_model = model
        result_type: Any = TrackingResult
        self._result_type = result_type[model] if model else result_type[dict[str, Any]]
        self._policy = RedirectPolicy(config.redirect_schemes, config.redirect_hosts)
        self._suffix = "/" if config.append_slash else ""
        self._open_base = self._url_prefix(config.base_open_tracking_url)
        self._click_base = self._url_prefix(config.base_click_tracking_url)
        self._open_prefixes = self._match_prefixes(config.base_open_tracking_url)
        self._click_prefixes = self._match_prefixes(config.base_click_tracking_url)
        self._default_in_token = (
            dict(config.default_metadata)
            if config.include_default_metadata and config.default_metadata
            else None
        )
        self._default_on_decode = (
            dict(config.default_metadata)
            if not config.include_default_metadata and config.default_metadata
            else None
        )
        self._webhook_in_token = config.webhook_url if config.include_webhook_url else None
        # As in pytracking, a token's webhook counts only with include_webhook_url;
        # unlike pytracking, only from an authenticated token, and only if allowed.
        self._allowed_webhooks = (
            frozenset(
                (
                    *config.allowed_webhook_urls,
                    *((config.webhook_url,) if config.webhook_url else ()),
                )
            )
            if config.include_webhook_url
            else frozenset()
        )
        self._fernet_keys = tuple(legacy.parse_fernet_key(k) for k in config.legacy_fernet_keys)
        self._ttl = config.ttl
        self._accept_legacy = config.accept_legacy

    def _url_prefix(self, base: str | None) -> str | None:
        if base is None:
            return None
        param = self.config.token_param
        if param is None:
            return _slashed(base)
        return f"{base}{'&' if '?' in base else '?'}{param}="

    @staticmethod
    def _match_prefixes(base: str | None) -> tuple[str, ...]:
        if base is None:
            return ()
        path = _slashed(urlsplit(base).path) or ""
        return tuple(p for p in (_slashed(base), path) if p and p != "/")

    def __repr__(self) -> str:
        model = self.metadata_model.__name__ if self.metadata_model else "dict"
        return f"Tracker(metadata={model}, codec={self.codec!r})"

    def with_overrides(self, **overrides: Any) -> Tracker[M]:
        """Return a tracker whose configuration differs by ``overrides``.

        Overrides that do not change how tokens are made (base URLs, metadata
        and webhook settings, ``append_slash``...) reuse this tracker's codec.

        Raises:
            ConfigurationError: An unknown or invalid setting.
        """
        data = {k: getattr(self.config, k) for k in TrackingConfig.model_fields}
        data.update(overrides)
        config = TrackingConfig(**data)
        clone: Tracker[M] = Tracker.__new__(Tracker)
        codec = (
            _build_codec(config, self.metadata_model)
            if _CODEC_FIELDS & overrides.keys()
            else self.codec
        )
        clone._setup(config, self.metadata_model, codec)
        return clone

    # -- building URLs ----------------------------------------------------------------

    def _payload(self, url: str | None, metadata: Mapping[str, Any] | M | None) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if url is not None:
            data["url"] = url
        meta: dict[str, Any]
        if type(metadata) is dict:
            meta = metadata  # only read: serialized before the caller gets control back
        elif isinstance(metadata, BaseModel):
            meta = metadata.model_dump(mode="json", by_alias=True, exclude_unset=True)
        elif metadata is None:
            meta = {}
        elif isinstance(metadata, Mapping):
            meta = dict(metadata)
        else:
            raise TypeError("metadata must be a mapping or a pydantic model")
        if self._default_in_token is not None:
            meta = {**self._default_in_token, **meta}
        if meta:
            data["metadata"] = meta
        if self._webhook_in_token is not None:
            data["webhook"] = self._webhook_in_token
        return data

    def open_url(
        self,
        metadata: Mapping[str, Any] | M | None = None,
        *,
        now: float | None = None,
        **overrides: Any,
    ) -> str:
        """Return the open-tracking (pixel) URL carrying ``metadata``.

        Args:
            metadata: A mapping, or an instance of the metadata model.
            now: Issue time written in the token when timestamps are on
                (Unix seconds); the clock when omitted.
            **overrides: `TrackingConfig` fields to change for this call only.

        Raises:
            ConfigurationError: No ``base_open_tracking_url`` is configured.
            TypeError: The metadata holds values the serializer cannot carry.
        """
        if overrides:
            return self.with_overrides(**overrides).open_url(metadata, now=now)
        if self._open_base is None:
            raise ConfigurationError(
                "base_open_tracking_url is not configured", field="base_open_tracking_url"
            )
        token = self.codec.encode(self._payload(None, metadata), now=now)
        return self._open_base + token + self._suffix

    def click_url(
        self,
        url: str,
        metadata: Mapping[str, Any] | M | None = None,
        *,
        now: float | None = None,
        **overrides: Any,
    ) -> str:
        """Return the click-tracking URL that redirects to ``url``.

        Args:
            url: The link's real target; it must pass the redirect policy.
            metadata: A mapping, or an instance of the metadata model.
            now: Issue time written in the token when timestamps are on
                (Unix seconds); the clock when omitted.
            **overrides: `TrackingConfig` fields to change for this call only.

        Raises:
            ConfigurationError: No ``base_click_tracking_url`` is configured.
            ValueError: ``url`` is outside the redirect policy (a
                `RedirectNotAllowed`, raised at minting time so that no dead
                link is sent).
        """
        if overrides:
            return self.with_overrides(**overrides).click_url(url, metadata, now=now)
        if self._click_base is None:
            raise ConfigurationError(
                "base_click_tracking_url is not configured", field="base_click_tracking_url"
            )
        try:
            self._policy.check(url)
        except RedirectNotAllowed as exc:
            raise ValueError(f"cannot track {url!r}: {exc}") from exc
        token = self.codec.encode(self._payload(url, metadata), now=now)
        return self._click_base + token + self._suffix

    # -- parsing URLs -----------------------------------------------------------------

    def _token(self, url_or_path: str, prefixes: tuple[str, ...]) -> str:
        param = self.config.token_param
        if param is not None:
            query = url_or_path.partition("?")[2].partition("#")[0]
            if not query:
                return url_or_path.strip("/")
            try:
                values = parse_qs(query, max_num_fields=64).get(param)
            except ValueError as exc:  # more fields than any tracking URL has
                raise MalformedToken("tracking URL has too many query fields") from exc
            # append_slash puts "/" after the token, in the query too.
            return values[0].rstrip("/") if values else ""
        rest = url_or_path
        for prefix in prefixes:
            if rest.startswith(prefix):
                rest = rest[len(prefix) :]
                break
        rest = rest.partition("?")[0].partition("#")[0].strip("/")
        return rest.rpartition("/")[2]

    def parse_open(
        self, url_or_path: str, request_data: Any = None, *, now: float | None = None
    ) -> TrackingResult[M]:
        """Decode an open-tracking URL (full URL, path, or bare token).

        Args:
            url_or_path: What the endpoint received.
            request_data: Anything to attach to the result (user agent, IP...).
            now: The current time (Unix seconds); the clock when omitted.

        Raises:
            InvalidToken: A subclass; an endpoint answers 404.
        """
        token = self._token(url_or_path, self._open_prefixes)
        return self._result("open", token, request_data, now)

    def parse_click(
        self, url_or_path: str, request_data: Any = None, *, now: float | None = None
    ) -> TrackingResult[M]:
        """Decode a click-tracking URL; the target is checked against the redirect policy.

        Same arguments as `parse_open`.

        Raises:
            RedirectNotAllowed: The target is outside the redirect policy.
            InvalidToken: Another subclass: forged, expired, malformed...
        """
        token = self._token(url_or_path, self._click_prefixes)
        return self._result("click", token, request_data, now)

    def parse(
        self, url_or_path: str, request_data: Any = None, *, now: float | None = None
    ) -> TrackingResult[M]:
        """Decode an open or click URL, telling which by its base URL (or, failing that,
        by whether the token carries a target).

        Same arguments and errors as `parse_click`.
        """
        # The longest base wins: a click base of "https://t.example.com/" must not
        # swallow the open URLs under "https://t.example.com/o/".
        click = max((len(p) for p in self._click_prefixes if url_or_path.startswith(p)), default=0)
        opened = max((len(p) for p in self._open_prefixes if url_or_path.startswith(p)), default=0)
        if click > opened:
            return self.parse_click(url_or_path, request_data, now=now)
        if opened > click:
            return self.parse_open(url_or_path, request_data, now=now)
        token = self._token(url_or_path, ())
        return self._result(None, token, request_data, now)

    def redirect_target(self, url_or_path: str, *, now: float | None = None) -> str:
        """The URL a click endpoint should redirect to: the target, or ``fallback_url``.

        Raises:
            InvalidToken: The link is bad and no ``fallback_url`` is configured.
        """
        try:
            target = self.parse_click(url_or_path, now=now).tracked_url
        except InvalidToken:
            if self.config.fallback_url is None:
                raise
            return self.config.fallback_url
        return cast(str, target)

    def _decode(self, token: str, now: float | None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Decode a token of this library or, if accepted, of pytracking.

        Returns the payload, and the result fields that describe the token.
        """
        if len(token) > self.config.max_token_length:
            raise LimitExceeded(f"token is longer than {self.config.max_token_length} characters")
        mode = self._accept_legacy
        if mode == "plain" and legacy.is_legacy_plain(token):
            if self._ttl is not None:
                raise TokenExpired("legacy plain tokens carry no issue time; ttl refuses them")
            data = legacy.decode_plain(token)
            _check_depth(data, self.codec.limits.max_depth)
            return data, {
                "issued_at": None,
                "serializer": "json",
                "cipher": "plain",
                "key_id": None,
                "authenticated": False,
                "legacy": True,
            }
        if mode == "fernet" and legacy.is_legacy_fernet(token):
            data, issued_at = legacy.loads_fernet(token, self._fernet_keys, ttl=self._ttl, now=now)
            _check_depth(data, self.codec.limits.max_depth)
            return data, {
                "issued_at": issued_at,
                "serializer": "json",
                "cipher": "fernet",
                "key_id": None,
                "authenticated": True,
                "legacy": True,
            }
        payload, route, stamp = self.codec._open_token(token, self._ttl, now)
        return payload, {
            "issued_at": stamp,
            "serializer": route.serializer,
            "cipher": route.cipher,
            "key_id": route.key_id,
            "authenticated": route.authenticated,
            "legacy": False,
        }

    def _result(
        self, kind: TrackingKind | None, token: str, request_data: Any, now: float | None
    ) -> TrackingResult[M]:
        data, about = self._decode(token, now)
        url = data.get("url")
        token_meta = data.get("metadata")
        token_webhook = data.get("webhook")
        if (
            not (url is None or type(url) is str)
            or not (token_meta is None or type(token_meta) is dict)
            or not (token_webhook is None or type(token_webhook) is str)
        ):
            raise PayloadError("token payload does not have the tracking layout")
        if kind is None:
            kind = "click" if url is not None else "open"
        if kind == "click":
            if url is None:
                raise PayloadError("click token carries no target URL")
            self._policy.check(url)

        if self._default_on_decode is not None:
            meta: dict[str, Any] = {**self._default_on_decode, **(token_meta or {})}
        else:
            meta = token_meta or {}
        metadata: Any = meta
        if self.metadata_model is not None:
            try:
                metadata = self.metadata_model.model_validate(meta)
            except ValidationError as exc:
                raise PayloadError(f"metadata does not validate: {exc}") from exc

        webhook = self.config.webhook_url
        if token_webhook and about["authenticated"] and token_webhook in self._allowed_webhooks:
            webhook = token_webhook

        # The result's fields in declaration order: those describing the token
        # come last, from `_decode`.
        values = {
            "kind": kind,
            "tracked_url": url,
            "metadata": metadata,
            "webhook_url": webhook,
            "request_data": request_data,
            "timestamp": int(time.time() if now is None else now),
            **about,
        }
        result: TrackingResult[M] = self._result_type._from_trusted(values)
        return result
