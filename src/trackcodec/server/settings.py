"""`ServerSettings`: how ``trackcodec serve`` listens, stores and protects itself.

The tracking settings (keys, cipher, base URLs...) stay in `TrackingConfig`;
`ServerSettings` holds only what the server adds. Both come from the same
places, in this order of precedence: command-line flags, ``TRACKCODEC_*``
environment variables (``TRACKCODEC_PORT``, ``TRACKCODEC_DATABASE``...), then
a TOML file whose ``[serve]`` table sits next to its ``[trackcodec]`` table.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from trackcodec.config import ENV_PREFIX, TrackingConfig
from trackcodec.endpoint import EndpointSettings
from trackcodec.errors import ConfigurationError

__all__ = ["AckMode", "ServerSettings", "load_settings"]

AckMode = Literal["commit", "queued"]
"""When a tracking request is answered: after its event is committed, or once queued."""


class ServerSettings(BaseModel):
    """Settings of ``trackcodec serve`` (the tracking settings are a `TrackingConfig`).

    Attributes:
        host: Address to listen on. Behind a load balancer or a TLS proxy on
            another machine, ``0.0.0.0``.
        port: TCP port.
        workers: Worker processes sharing the port (one event loop each).
        database: Where events go: empty for ``trackcodec-events.sqlite3`` in
            the working directory, a file path or ``sqlite:///path``, or a
            ``postgresql://`` URL (several nodes sharing one store).
        open_path: URL path prefix of open (pixel) requests; by default the
            path of ``base_open_tracking_url``, else ``/o/``.
        click_path: URL path prefix of click requests; by default the path of
            ``base_click_tracking_url``, else ``/c/``.
        stats_token: Password of the ``/stats`` page (HTTP Basic, any user
            name, or ``Authorization: Bearer``). Without it the page is off.
        ack: ``"commit"`` (default): a pixel or redirect is sent only once the
            event is committed to the store, so an acknowledged event is never
            lost. ``"queued"``: answer once the event is queued for the next
            group commit; a crash loses the events queued but not yet
            committed (see the operations page for measured figures).
        batch_max: Most events per group commit.
        batch_delay: Seconds a commit waits for more events (``0``: none; under
            load batches form anyway while the previous commit runs).
        queue_max: Most events waiting for a commit per worker; past it,
            tracking requests get ``503`` with ``Retry-After`` (nothing is lost:
            nothing was acknowledged).
        header_timeout: Seconds a client has to send a complete request head
            (after connecting, or after the previous response): slow clients
            (slowloris) are cut off with ``408``.
        keep_alive_timeout: Seconds an idle keep-alive connection stays open.
        shutdown_timeout: Seconds SIGTERM waits for requests in flight.
        max_url_length: Longest request target (path and query) accepted;
            longer gets ``414``.
        max_header_bytes: Most bytes of all header names and values; more gets
            ``431``.
        max_headers: Most header fields; more gets ``431``.
        max_connections: Most open connections (and requests in progress) per
            worker; past it, ``503``.
        trusted_proxy_count: Proxies in front of the server (load balancer,
            TLS terminator), the socket peer included: the client address is
            read from ``forwarded_header`` through that many hops. Unset: the
            socket peer is the client.
        trusted_proxies: Or the proxies' addresses, outermost first.
        forwarded_header: The header the proxies write (``x-forwarded-for``).
        pixel: ``"gif"`` (43 bytes) or ``"png"`` (pytracking's bytes).
        invalid_open: A bad open token gets ``"not-found"`` (404) or
            ``"pixel"`` (the pixel, no event).
        redirect_status: Status of click redirects.
        webhook_outbox: A webhook outbox file (SQLite): events are also
            committed there, before the answer, for ``trackcodec events
            deliver`` to post (``trackcodec[webhooks]``). Every event when
            ``webhook_url`` is set, else those whose token names an allowed
            webhook.
        metrics: Serve ``/metrics`` (Prometheus text format).
        access_log: Log every request (uvicorn's access log).
        log_level: ``critical``, ``error``, ``warning``, ``info`` or ``debug``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=512)
    database: str = ""
    open_path: str | None = None
    click_path: str | None = None
    stats_token: SecretStr | None = None
    ack: AckMode = "commit"
    batch_max: int = Field(default=500, ge=1)
    batch_delay: float = Field(default=0.0, ge=0, le=1)
    queue_max: int = Field(default=10_000, ge=1)
    header_timeout: float = Field(default=10.0, gt=0)
    keep_alive_timeout: float = Field(default=5.0, gt=0)
    shutdown_timeout: float = Field(default=30.0, gt=0)
    max_url_length: int = Field(default=8192, ge=256)
    max_header_bytes: int = Field(default=16384, ge=1024)
    max_headers: int = Field(default=100, ge=8)
    max_connections: int | None = Field(default=4096, ge=1)
    trusted_proxy_count: int | None = Field(default=None, ge=0)
    trusted_proxies: tuple[str, ...] = ()
    forwarded_header: str = "x-forwarded-for"
    pixel: Literal["gif", "png"] = "gif"
    invalid_open: Literal["not-found", "pixel"] = "not-found"
    redirect_status: Literal[301, 302, 303, 307, 308] = 302
    webhook_outbox: str | None = None
    metrics: bool = True
    access_log: bool = False
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"

    @field_validator("open_path", "click_path")
    @classmethod
    def _check_path(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith("/") or "?" in value or "#" in value:
            raise ValueError(f"a path starting with '/', without query: {value!r}")
        return value

    def endpoint_settings(self) -> EndpointSettings:
        """The `EndpointSettings` these settings imply."""
        return EndpointSettings(
            pixel=self.pixel,
            invalid_open=self.invalid_open,
            redirect_status=self.redirect_status,
            trusted_proxy_count=self.trusted_proxy_count,
            trusted_proxies=self.trusted_proxies,
            forwarded_header=self.forwarded_header,
            max_path_length=self.max_url_length,
        )

    @field_validator("stats_token")
    @classmethod
    def _check_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and 0 < len(value.get_secret_value()) < 12:
            raise ValueError("use at least 12 characters (better: trackcodec keygen's output)")
        if value is not None and not value.get_secret_value():
            return None
        return value


SERVER_FIELDS = frozenset(ServerSettings.model_fields)
_OPTIONAL = frozenset(
    {
        "open_path",
        "click_path",
        "stats_token",
        "max_connections",
        "trusted_proxy_count",
        "webhook_outbox",
    }
)
_LISTS = frozenset({"trusted_proxies"})
_TABLE = "serve"


def _error(exc: ValidationError) -> ConfigurationError:
    first = exc.errors()[0]
    name = ".".join(str(p) for p in first["loc"]) or "serve"
    return ConfigurationError(f"invalid server setting {name}: {first['msg']}", field=name)


def _server_settings(data: Mapping[str, Any]) -> ServerSettings:
    try:
        return ServerSettings(**dict(data))
    except ValidationError as exc:
        raise _error(exc) from exc


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        from trackcodec._deps import require

        tomllib = require("tomli", package="tomli", extra="toml", feature="--config")
    try:
        document: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}") from exc
    return document


def load_settings(
    config_file: Path | None,
    tracking_flags: Mapping[str, Any],
    server_flags: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
) -> tuple[TrackingConfig, ServerSettings]:
    """Merge the TOML file, then the environment, then the flags, into both settings.

    Args:
        config_file: A TOML file: tracking settings in its ``[trackcodec]``
            table (or at its top level), server settings in its ``[serve]``
            table.
        tracking_flags: `TrackingConfig` fields given as flags (``None``: not given).
        server_flags: `ServerSettings` fields given as flags (``None``: not given).
        environ: The environment (``os.environ`` when omitted):
            ``TRACKCODEC_<FIELD>`` of either settings.

    Raises:
        ConfigurationError: An unknown or invalid setting, named in the error.
    """
    env = os.environ if environ is None else environ
    tracking: dict[str, Any] = {}
    server: dict[str, Any] = {}
    if config_file is not None:
        document = _read_toml(config_file)
        table = document.get(_TABLE, {})
        if not isinstance(table, dict):
            raise ConfigurationError(f"{config_file}: [{_TABLE}] must be a table", field=_TABLE)
        server.update(table)
        if isinstance(document.get("trackcodec"), dict):
            tracking_table = document["trackcodec"]
        else:
            tracking_table = {k: v for k, v in document.items() if k != _TABLE}
        config = TrackingConfig.from_dict(tracking_table)
        tracking.update({name: getattr(config, name) for name in config.model_fields_set})
    tracking_env: dict[str, str] = {}
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        field = name[len(ENV_PREFIX) :].lower()
        if field in SERVER_FIELDS:
            if field in _LISTS:
                server[field] = [item.strip() for item in raw.split(",") if item.strip()]
            else:
                server[field] = None if raw.strip() == "" and field in _OPTIONAL else raw
        else:
            tracking_env[name] = raw
    from_env = TrackingConfig.from_env(tracking_env)
    tracking.update({name: getattr(from_env, name) for name in from_env.model_fields_set})
    tracking.update({k: v for k, v in tracking_flags.items() if v is not None})
    server.update({k: v for k, v in server_flags.items() if v is not None})
    return TrackingConfig(**tracking), _server_settings(server)
