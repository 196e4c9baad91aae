"""`TrackingConfig`: every setting of a tracker, from code, a dict, the environment or TOML."""

from __future__ import annotations

import copy
import importlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SkipValidation,
    ValidationError,
    field_validator,
    model_validator,
)

from trackcodec import registry
from trackcodec.errors import ConfigurationError
from trackcodec.keys import KeyRing
from trackcodec.legacy import LegacyMode, parse_fernet_key
from trackcodec.protocols import CipherFactory, Compressor, Serializer
from trackcodec.redirect import is_scheme

__all__ = [
    "ENV_PREFIX",
    "OTHER_ENV_SETTINGS",
    "TrackingConfig",
    "configuration_error",
    "import_model",
]

ENV_PREFIX = "TRACKCODEC_"


class _ReadOnlyDict(dict[str, Any]):
    """A dict that refuses changes (a frozen config's ``default_metadata``)."""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("TrackingConfig is frozen: use with_overrides or model_copy(update=...)")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse
    __ior__ = _refuse

    def __reduce__(self) -> Any:
        return (_ReadOnlyDict, (dict(self),))

    def __copy__(self) -> _ReadOnlyDict:
        return self

    def __deepcopy__(self, memo: Any) -> _ReadOnlyDict:
        return _ReadOnlyDict(copy.deepcopy(dict(self), memo))


OTHER_ENV_SETTINGS: frozenset[str] = frozenset(
    {
        # trackcodec serve (trackcodec.server.settings.SERVER_FIELDS; a test keeps them equal)
        "access_log", "ack", "batch_delay", "batch_max", "click_path", "database",
        "forwarded_header", "header_timeout", "host", "invalid_open", "keep_alive_timeout",
        "log_level", "max_connections", "max_header_bytes", "max_headers", "max_url_length",
        "metrics", "open_path", "pixel", "port", "queue_max", "redirect_status",
        "shutdown_timeout", "stats_token", "trusted_proxies", "trusted_proxy_count",
        "webhook_outbox", "workers",
        # trackcodec events (export, deliver, replay, status)
        "outbox", "webhook_secrets",
    }
)  # fmt: skip
"""Lower-case names of the ``TRACKCODEC_*`` variables read by trackcodec's other
commands (the server, the event commands). `TrackingConfig.from_env` leaves them
alone, so one environment can configure every command."""


def configuration_error(exc: ValidationError) -> ConfigurationError:
    """Turn a settings model's `ValidationError` into a `ConfigurationError` naming the field.

    Used by every settings model of trackcodec (`TrackingConfig`, the endpoint's
    settings), so that all of them report bad settings the same way.
    """
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, ConfigurationError) and cause.field:
        # Model validators have no location; the error they raise names the field.
        field = cause.field
    where = f"{field}: " if field else ""
    message = first["msg"].removeprefix("Value error, ")
    return ConfigurationError(f"invalid setting {where}{message}", field=field)


class TrackingConfig(BaseModel):
    """Settings of a `Tracker`; immutable once built.

    Field names and the merge rules of metadata and webhooks follow
    pytracking's ``Configuration``. Build it in code, or with `from_dict`,
    `from_env` (``TRACKCODEC_*`` variables) or `from_toml`.

    Attributes:
        base_open_tracking_url: URL the open-tracking token is appended to,
            e.g. ``https://t.example.com/o/``.
        base_click_tracking_url: URL the click-tracking token is appended to.
        default_metadata: Metadata merged under every token's own metadata.
        include_default_metadata: Put ``default_metadata`` in the tokens (True)
            or add it when decoding (False, shorter URLs).
        webhook_url: Webhook to notify of opens and clicks.
        include_webhook_url: Put ``webhook_url`` in the tokens. Decoding takes
            a token's webhook only if the token is authenticated and the URL
            is ``webhook_url`` or in ``allowed_webhook_urls``.
        allowed_webhook_urls: Other webhook URLs tokens may carry.
        webhook_timeout_seconds: Timeout of a webhook call, for the code that
            delivers events (the tracker itself makes no calls).
        append_slash: Append ``/`` to tracking URLs.
        token_param: Put the token in this query parameter instead of the path.
        serializer: Registry name or `Serializer` instance (``msgpack``).
        compressor: Registry name or `Compressor` instance (``deflate-dict``).
        cipher: Registry name or `CipherFactory` (``aes-siv``).
        keys: The `KeyRing` or its text form. Required unless the cipher is ``plain``.
        timestamp: Write the issue time into tokens (always on when ``ttl`` is set).
        ttl: Refuse tokens older than this many seconds; ``None`` (default)
            never expires, as emails live for years.
        redirect_schemes: URL schemes a click may redirect to.
        redirect_hosts: If set, the hosts a click may redirect to; an entry
            starting with ``.`` allows every subdomain.
        fallback_url: Where click endpoints send a bad or refused link, instead of a 404.
        accept_legacy: Also read pytracking tokens: ``fernet`` (authenticated,
            needs ``legacy_fernet_keys``) or ``plain`` (unauthenticated: anyone
            can forge them; unsafe for click tracking without ``redirect_hosts``).
        legacy_fernet_keys: pytracking ``encryption_bytestring_key`` values.
        max_token_length: Longest token accepted, in characters.
        max_payload_size: Largest serialized payload accepted, in bytes.
        max_depth: Deepest nesting of lists and mappings in a payload.
        clock_skew: With ``ttl``, how many seconds a token's issue time may
            lie in the future (the clocks of minting and decoding nodes
            differ) before the token is refused.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    base_open_tracking_url: str | None = None
    base_click_tracking_url: str | None = None
    default_metadata: dict[str, Any] | None = None
    include_default_metadata: bool = False
    webhook_url: str | None = None
    include_webhook_url: bool = False
    allowed_webhook_urls: tuple[str, ...] = ()
    webhook_timeout_seconds: float = Field(default=5, gt=0)
    append_slash: bool = False
    token_param: str | None = None
    serializer: Annotated[str | Serializer, SkipValidation] = "msgpack"
    compressor: Annotated[str | Compressor, SkipValidation] = "deflate-dict"
    cipher: Annotated[str | CipherFactory, SkipValidation] = "aes-siv"
    keys: Annotated[KeyRing | None, SkipValidation] = None
    timestamp: bool = False
    ttl: int | None = Field(default=None, gt=0)
    redirect_schemes: tuple[str, ...] = ("http", "https")
    redirect_hosts: tuple[str, ...] | None = None
    fallback_url: str | None = None
    accept_legacy: LegacyMode = "none"
    legacy_fernet_keys: tuple[str, ...] = ()
    max_token_length: int = Field(default=4096, ge=16)
    max_payload_size: int = Field(default=65536, ge=16)
    max_depth: int = Field(default=32, ge=1, le=256)
    clock_skew: float = Field(default=60, ge=0, allow_inf_nan=False)

    if not TYPE_CHECKING:

        def __init__(self, **data: Any) -> None:
            try:
                super().__init__(**data)
            except ValidationError as exc:
                raise configuration_error(exc) from None

    @field_validator("keys", mode="before")
    @classmethod
    def _parse_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            return KeyRing.from_string(value)
        if value is not None and not isinstance(value, KeyRing):
            raise ConfigurationError("keys must be a KeyRing or its text form", field="keys")
        return value

    @field_validator("default_metadata", mode="after")
    @classmethod
    def _freeze_metadata(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        # A read-only copy: a frozen config must not change through its metadata.
        return None if value is None else _ReadOnlyDict(copy.deepcopy(value))

    @field_validator("serializer", "compressor", "cipher", mode="before")
    @classmethod
    def _check_backend(cls, value: Any, info: Any) -> Any:
        if isinstance(value, str):
            names = {
                "serializer": registry.serializer_names,
                "compressor": registry.compressor_names,
                "cipher": registry.cipher_names,
            }[info.field_name]()
            if value not in names:
                raise ConfigurationError(
                    f"unknown {info.field_name} {value!r}; choose one of {', '.join(names)}",
                    field=info.field_name,
                )
        return value

    @field_validator("redirect_schemes", mode="after")
    @classmethod
    def _lower_schemes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        schemes = tuple(s.lower() for s in value)
        for scheme in schemes:
            if not is_scheme(scheme):
                raise ConfigurationError(
                    f"{scheme!r} is not a URL scheme (write it without '://')",
                    field="redirect_schemes",
                )
        return schemes

    @field_validator("redirect_hosts", mode="after")
    @classmethod
    def _lower_hosts(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if value is None else tuple(h.lower() for h in value)

    @field_validator("legacy_fernet_keys", mode="after")
    @classmethod
    def _check_fernet_keys(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for key in value:
            parse_fernet_key(key)
        return value

    @model_validator(mode="after")
    def _check_consistency(self) -> TrackingConfig:
        if self.accept_legacy == "fernet" and not self.legacy_fernet_keys:
            raise ConfigurationError(
                "accept_legacy='fernet' needs legacy_fernet_keys", field="legacy_fernet_keys"
            )
        if self.token_param is not None and not self.token_param:
            raise ConfigurationError("token_param must not be empty", field="token_param")
        for name in ("base_open_tracking_url", "base_click_tracking_url"):
            base = getattr(self, name)
            if base is None:
                continue
            parts = urlsplit(base)
            if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
                raise ConfigurationError(
                    f"{name} must be an absolute http(s) URL with a host, "
                    "e.g. https://t.example.com/o/",
                    field=name,
                )
            if "#" in base:  # the token would land in the fragment, which is never sent
                raise ConfigurationError(f"{name} must not have a #fragment", field=name)
            if "?" in base and self.token_param is None:
                raise ConfigurationError(
                    f"{name} has a query string: the token would land inside it; "
                    "set token_param to put the token in a query parameter",
                    field=name,
                )
        return self

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            yield name, ("<hidden>" if name == "legacy_fernet_keys" and value else value)

    # -- loaders ------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrackingConfig:
        """Build from a mapping of field names (e.g. a parsed config file).

        Raises:
            ConfigurationError: An unknown field or an invalid value, named in the error.
        """
        return cls(**dict(data))

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, prefix: str = ENV_PREFIX
    ) -> TrackingConfig:
        """Build from ``TRACKCODEC_<FIELD>`` environment variables.

        Booleans are ``true``/``false``/``1``/``0``; lists are comma-separated
        or a JSON array; ``default_metadata`` is a JSON object. Variables with
        the prefix that name no field are an error, to catch typos, except the
        settings of the other trackcodec commands (`OTHER_ENV_SETTINGS`).

        Args:
            environ: The variables to read; ``os.environ`` when omitted.
            prefix: The variable name prefix.

        Raises:
            ConfigurationError: An unknown variable or an invalid value.
        """
        env = os.environ if environ is None else environ
        data: dict[str, Any] = {}
        for name, raw in env.items():
            if not name.startswith(prefix):
                continue
            field = name[len(prefix) :].lower()
            if field in OTHER_ENV_SETTINGS and field not in cls.model_fields:
                continue
            if field not in cls.model_fields:
                raise ConfigurationError(f"unknown setting {name}", field=field)
            data[field] = _from_env_text(field, raw)
        return cls(**data)

    @classmethod
    def from_toml(
        cls, path: str | os.PathLike[str], *, table: str | None = "trackcodec"
    ) -> TrackingConfig:
        """Build from a TOML file, e.g. the ``[trackcodec]`` table of ``pyproject.toml``.

        Args:
            path: The file.
            table: The table holding the settings (dotted for nested tables);
                ``None`` for the top level.

        Raises:
            ConfigurationError: The file is not TOML, the table is missing, or
                a setting is invalid.
        """
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            from trackcodec._deps import require

            tomllib = require("tomli", package="tomli", extra="toml", feature="from_toml")
        try:
            document: dict[str, Any] = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read {path}: {exc}") from exc
        if table:
            for part in table.split("."):
                document = document.get(part)  # type: ignore[assignment]
                if not isinstance(document, dict):
                    raise ConfigurationError(f"{path} has no [{table}] table", field=table)
        return cls.from_dict(document)


_LIST_FIELDS = {
    "allowed_webhook_urls",
    "redirect_schemes",
    "redirect_hosts",
    "legacy_fernet_keys",
}


def _from_env_text(field: str, raw: str) -> Any:
    text = raw.strip()
    if field == "default_metadata":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ConfigurationError(f"{field} must be a JSON object", field=field) from exc
    if field in _LIST_FIELDS:
        if text.startswith("["):
            try:
                return json.loads(text)
            except ValueError as exc:
                raise ConfigurationError(f"{field} must be a JSON array", field=field) from exc
        return [item.strip() for item in text.split(",") if item.strip()]
    if text == "" and field in {"ttl", "token_param", "fallback_url", "webhook_url"}:
        return None
    return text


def import_model(spec: str) -> type[BaseModel]:
    """Import ``MODULE:CLASS``, a pydantic model of the metadata.

    Raises:
        ConfigurationError: Not importable, or not a pydantic model class.
    """
    module_name, sep, qualname = spec.partition(":")
    if not sep or not module_name or not qualname:
        raise ConfigurationError(f"use MODULE:CLASS for the model, not {spec!r}", field="model")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"cannot import {spec}: {exc}", field="model") from exc
    if not (isinstance(obj, type) and issubclass(obj, BaseModel)):
        raise ConfigurationError(f"{spec} is not a pydantic model class", field="model")
    return obj
