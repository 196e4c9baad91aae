"""`Tracker`: builds open and click tracking URLs and parses them back."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Generic, TypeVar, cast, overload
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ValidationError

from trackcodec import legacy
from trackcodec.codec import Codec, Limits, TokenInfo
from trackcodec.config import TrackingConfig
from trackcodec.errors import (
    ConfigurationError,
    EncodeError,
    InvalidToken,
    LimitExceeded,
    MalformedToken,
    PayloadError,
    RedirectNotAllowed,
)
from trackcodec.payload import make_payload, payload_model, split_payload
from trackcodec.redirect import RedirectPolicy
from trackcodec.result import TrackingKind, TrackingResult

__all__ = ["Tracker"]

M = TypeVar("M")

# Settings that change how tokens are made; the others can be overridden per
# call without building a new codec.
_CODEC_FIELDS = frozenset(
    {
        "serializer",
        "compressor",
        "cipher",
        "keys",
        "timestamp",
        "ttl",
        "max_token_length",
        "max_payload_size",
        "max_depth",
    }
)


def _build_codec(config: TrackingConfig, metadata_model: type[Any] | None) -> Codec:
    return Codec.from_names(
        serializer=config.serializer,
        compressor=config.compressor,
        cipher=config.cipher,
        keys=config.keys,
        model=payload_model(metadata_model) if config.serializer == "schema" else None,
        timestamp=config.timestamp or config.ttl is not None,
        limits=Limits(
            max_token_length=config.max_token_length,
            max_payload_size=config.max_payload_size,
            max_depth=config.max_depth,
        ),
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
        # Read on every parse: plain attributes, not the pydantic model's.
        self._max_token_length = config.max_token_length
        self._clock_skew = config.clock_skew
        self._webhook_url = config.webhook_url
        self._token_param = config.token_param

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

    def payload(
        self, url: str | None, metadata: Mapping[str, Any] | M | None = None
    ) -> dict[str, Any]:
        """The payload a token of this tracker carries (`trackcodec.payload` layout).

        What `click_url` (with ``url``) and `open_url` (without) encode: the
        metadata merged over ``default_metadata`` when that goes in tokens, and
        the webhook when ``include_webhook_url`` is set.

        Raises:
            TypeError: ``metadata`` is neither a mapping nor a pydantic model.
        """
        meta: Mapping[str, Any]
        if type(metadata) is dict:
            meta = metadata  # only read: serialized before the caller gets control back
        elif isinstance(metadata, BaseModel):
            meta = metadata.model_dump(mode="json", by_alias=True, exclude_unset=True)
        elif metadata is None:
            meta = {}
        elif isinstance(metadata, Mapping):
            meta = dict(metadata)
        else:
            raise TypeError(
                f"metadata must be a mapping or a pydantic model, not {type(metadata).__name__}"
            )
        if self._default_in_token is not None:
            meta = {**self._default_in_token, **meta}
        return make_payload(url, meta, self._webhook_in_token)

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
            EncodeError: The token would exceed a limit.
            TypeError: The metadata holds values the serializer cannot carry.
        """
        if overrides:
            return self.with_overrides(**overrides).open_url(metadata, now=now)
        if self._open_base is None:
            raise ConfigurationError(
                "base_open_tracking_url is not configured", field="base_open_tracking_url"
            )
        token = self.codec.encode(self.payload(None, metadata), now=now)
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
            EncodeError: ``url`` is outside the redirect policy (raised at
                minting time so that no dead link is sent; the
                `RedirectNotAllowed` is chained), or the token would exceed a limit.
            TypeError: ``url`` is not a str, or ``metadata`` not a mapping or model.
        """
        if overrides:
            return self.with_overrides(**overrides).click_url(url, metadata, now=now)
        if self._click_base is None:
            raise ConfigurationError(
                "base_click_tracking_url is not configured", field="base_click_tracking_url"
            )
        if not isinstance(url, str):
            raise TypeError(f"url must be a str, not {type(url).__name__}")
        try:
            self._policy.check(url)
        except RedirectNotAllowed as exc:
            raise EncodeError(f"cannot track {url!r}: {exc}") from exc
        token = self.codec.encode(self.payload(url, metadata), now=now)
        return self._click_base + token + self._suffix

    # -- parsing URLs -----------------------------------------------------------------

    def token_of(self, url_or_path: str, kind: TrackingKind | None = None) -> str:
        """The token in a tracking URL, a path, or a bare token (returned as is).

        The one reading of "where is the token" for the tracker, the endpoint
        and the CLI: after the base URL of ``kind`` (either, when ``None``), or
        in ``token_param``'s query parameter when that is configured; query
        and fragment are ignored, and so is the trailing slash of ``append_slash``.

        Raises:
            TypeError: ``url_or_path`` is not a str.
            MalformedToken: The query has more fields than any tracking URL.
        """
        if kind == "open":
            prefixes = self._open_prefixes
        elif kind == "click":
            prefixes = self._click_prefixes
        else:
            prefixes = ()
        return self._token(url_or_path, prefixes)

    def _token(self, url_or_path: str, prefixes: tuple[str, ...]) -> str:
        if not isinstance(url_or_path, str):
            raise TypeError(f"url_or_path must be a str, not {type(url_or_path).__name__}")
        param = self._token_param
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
        if "/" in rest or "?" in rest or "#" in rest:
            rest = rest.partition("?")[0].partition("#")[0].strip("/")
            return rest.rpartition("/")[2]
        return rest  # a bare token

    def parse_open(
        self, url_or_path: str, request_data: Any = None, *, now: float | None = None
    ) -> TrackingResult[M]:
        """Decode an open-tracking URL (full URL, path, or bare token).

        A click token read here counts as an open (pytracking did the same: a
        mail client may fetch any URL of the message); its ``tracked_url`` is
        still checked against the redirect policy, as every result's is.

        Args:
            url_or_path: What the endpoint received.
            request_data: Anything to attach to the result (user agent, IP...).
            now: The current time (Unix seconds); the clock when omitted.

        Raises:
            RedirectNotAllowed: A click token whose target is outside the policy.
            InvalidToken: Another subclass; an endpoint answers 404.
            TypeError: ``url_or_path`` is not a str.
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
        if not isinstance(url_or_path, str):
            raise TypeError(f"url_or_path must be a str, not {type(url_or_path).__name__}")
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

    def decode_token(self, token: str, *, now: float | None = None) -> TokenInfo:
        """Decode a bare token of this library or, if accepted, of pytracking.

        Applies the tracker's ``ttl`` and ``clock_skew``; checks nothing about
        the payload's layout (`parse_open` and `parse_click` do).

        Raises:
            InvalidToken: A subclass.
        """
        if len(token) > self._max_token_length:
            raise LimitExceeded(f"token is longer than {self._max_token_length} characters")
        if self._accept_legacy != "none":
            info = legacy.decode_legacy(
                token,
                accept=self._accept_legacy,
                fernet_keys=self._fernet_keys,
                ttl=self._ttl,
                now=now,
                max_depth=self.codec.limits.max_depth,
            )
            if info is not None:
                return info
        return self.codec.decode_token(
            token, max_age=self._ttl, now=now, clock_skew=self._clock_skew
        )

    def _result(
        self, kind: TrackingKind | None, token: str, request_data: Any, now: float | None
    ) -> TrackingResult[M]:
        info = self.decode_token(token, now=now)
        url, token_meta, token_webhook = split_payload(info.payload)
        if kind is None:
            kind = "click" if url is not None else "open"
        if url is not None:
            # Every tracked_url a result carries has passed the policy, the open
            # route's too: a click token read as an open keeps its target checked.
            self._policy.check(url)
        elif kind == "click":
            raise PayloadError("click token carries no target URL")

        if self._default_on_decode is not None:
            meta: dict[str, Any] = {**self._default_on_decode, **(token_meta or {})}
        else:
            meta = token_meta or {}
        metadata: Any = meta
        if self.metadata_model is not None:
            try:
                metadata = self.metadata_model.model_validate(meta)
            except ValidationError as exc:
                raise PayloadError(_validation_summary(exc)) from exc

        webhook = self._webhook_url
        if token_webhook and info.authenticated and token_webhook in self._allowed_webhooks:
            webhook = token_webhook

        # The result's fields, in declaration order.
        values = {
            "kind": kind,
            "tracked_url": url,
            "metadata": metadata,
            "webhook_url": webhook,
            "request_data": request_data,
            "timestamp": int(time.time() if now is None else now),
            "issued_at": info.issued_at,
            "serializer": info.serializer,
            "cipher": info.cipher,
            "key_id": info.key_id,
            "authenticated": info.authenticated,
            "legacy": info.legacy,
        }
        result: TrackingResult[M] = self._result_type._from_trusted(values)
        return result


def _validation_summary(exc: ValidationError) -> str:
    """What failed to validate, by field and error type: never the values themselves."""
    problems = [
        f"{'.'.join(str(part) for part in error['loc']) or 'metadata'}: {error['type']}"
        for error in exc.errors(include_input=False, include_url=False)
    ]
    shown = "; ".join(problems[:5]) + ("; ..." if len(problems) > 5 else "")
    return f"metadata does not validate ({shown})"
