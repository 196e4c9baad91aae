"""What every command shares: exit codes, settings flags, reading arguments."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import BaseModel

from trackcodec import registry
from trackcodec.config import TrackingConfig, import_model
from trackcodec.errors import ConfigurationError, TrackcodecError
from trackcodec.tracking import Tracker

__all__ = [
    "InputError",
    "errors",
    "load_config",
    "read_argument",
    "settings_options",
    "tracker_from",
]

F = TypeVar("F", bound=Callable[..., Any])


class InputError(click.ClickException):
    """Invalid token or input: exit code 1, message on stderr."""

    exit_code = 1


@contextmanager
def errors() -> Iterator[None]:
    """Turn library errors into exit codes: settings are usage (2), the rest input (1)."""
    try:
        yield
    except ConfigurationError as exc:
        raise click.UsageError(str(exc)) from exc
    except TrackcodecError as exc:  # InvalidToken, EncodeError, MissingDependencyError...
        raise InputError(str(exc)) from exc


def settings_options(fn: F) -> F:
    """The flags every command reading settings takes (``--config``, ``--keys``...)."""
    options = [
        click.option(
            "--config",
            "config_file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="TOML file: its [trackcodec] table, or its top level.",
        ),
        click.option(
            "--keys", metavar="TEXT", help="Key ring text form (better: TRACKCODEC_KEYS)."
        ),
        click.option("--serializer", type=click.Choice(registry.serializer_names())),
        click.option("--compressor", type=click.Choice(registry.compressor_names())),
        click.option("--cipher", type=click.Choice(registry.cipher_names())),
        click.option("--base-url", help="Base URL of open and click URLs alike."),
        click.option(
            "--timestamp/--no-timestamp", default=None, help="Write the issue time in tokens."
        ),
        click.option(
            "--ttl", type=click.IntRange(min=1), help="Refuse tokens older than this (seconds)."
        ),
        click.option(
            "--model",
            metavar="MODULE:CLASS",
            help="pydantic model of the metadata (the schema serializer needs it).",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _fields_set(config: TrackingConfig) -> dict[str, Any]:
    return {name: getattr(config, name) for name in config.model_fields_set}


def load_config(
    config_file: Path | None,
    flags: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
) -> TrackingConfig:
    """Merge the TOML file, then the environment, then the flags."""
    data: dict[str, Any] = {}
    if config_file is not None:
        try:
            data.update(_fields_set(TrackingConfig.from_toml(config_file)))
        except ConfigurationError as exc:
            if exc.field != "trackcodec":
                raise
            data.update(_fields_set(TrackingConfig.from_toml(config_file, table=None)))
    data.update(_fields_set(TrackingConfig.from_env(environ)))
    data.update({k: v for k, v in flags.items() if v is not None})
    return TrackingConfig(**data)


def _import_model(spec: str) -> type[BaseModel]:
    try:
        return import_model(spec)
    except ConfigurationError as exc:
        raise click.BadParameter(str(exc), param_hint="--model") from exc


def tracker_from(
    config_file: Path | None,
    keys: str | None,
    serializer: str | None,
    compressor: str | None,
    cipher: str | None,
    base_url: str | None,
    timestamp: bool | None,
    ttl: int | None,
    model: str | None,
) -> Tracker[Any]:
    """The tracker the settings flags, ``TRACKCODEC_*`` and ``--config`` describe."""
    flags = {
        "keys": keys,
        "serializer": serializer,
        "compressor": compressor,
        "cipher": cipher,
        "base_open_tracking_url": base_url,
        "base_click_tracking_url": base_url,
        "timestamp": timestamp,
        "ttl": ttl,
    }
    metadata_model = _import_model(model) if model else None
    with errors():
        config = load_config(config_file, flags)
        if metadata_model is None:
            return Tracker(config)
        return Tracker(config, metadata_model=metadata_model)


def read_argument(value: str | None, what: str) -> str:
    """``value``, or standard input when it is ``-`` or omitted (and stdin is not a terminal)."""
    if value is None or value == "-":
        if sys.stdin is None or (value is None and sys.stdin.isatty()):
            raise click.UsageError(f"give the {what} as an argument or on standard input")
        value = sys.stdin.read()
    text = value.strip()
    if not text:
        raise InputError(f"empty {what}")
    return text
