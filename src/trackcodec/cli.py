"""The ``trackcodec`` command (``pip install 'trackcodec[cli]'``).

Commands: ``bench`` (choose settings by measuring them), ``keygen``,
``encode``, ``decode`` and ``rewrite``. Settings come from flags, from
``TRACKCODEC_*`` environment variables and from a TOML file (``--config``),
in that order of precedence.

Exit codes: 0 success; 1 invalid token or input (the message is on stderr);
2 usage (bad flags or settings).

This module imports click and rich; ``import trackcodec`` never imports it.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs, urlsplit

import click
from pydantic import BaseModel
from rich.console import Console

from trackcodec import __version__, legacy, registry
from trackcodec import bench as b
from trackcodec._explain import explain as explain_token
from trackcodec._explain import when
from trackcodec.bench import REQUIREMENTS, PayloadFileError, check_payload
from trackcodec.bench._terminal import print_report, run_with_progress, width
from trackcodec.codec import TokenHeader
from trackcodec.config import TrackingConfig
from trackcodec.errors import (
    ConfigurationError,
    TrackcodecError,
)
from trackcodec.html import rewrite_html
from trackcodec.keys import KeyRing
from trackcodec.tracking import Tracker

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])

_PLACEHOLDER_BASE = "https://token.invalid/"


class InputError(click.ClickException):
    """Invalid token or input: exit code 1, message on stderr."""

    exit_code = 1


@contextmanager
def _errors() -> Iterator[None]:
    """Turn library errors into exit codes: settings are usage (2), the rest input (1)."""
    try:
        yield
    except ConfigurationError as exc:
        raise click.UsageError(str(exc)) from exc
    except TrackcodecError as exc:  # InvalidToken, MissingDependencyError...
        raise InputError(str(exc)) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="trackcodec")
def main() -> None:
    """Compact, authenticated tokens for email open and click tracking.

    Settings come from flags, TRACKCODEC_* environment variables, or a TOML
    file (--config), flags first. Exit codes: 0 success, 1 invalid token or
    input, 2 usage.
    """


# -- settings -------------------------------------------------------------------------


def _settings_options(fn: F) -> F:
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


def _load_config(
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
    module_name, sep, qualname = spec.partition(":")
    if not sep or not module_name or not qualname:
        raise click.BadParameter(
            "use MODULE:CLASS, e.g. myapp.tracking:Metadata", param_hint="--model"
        )
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise click.BadParameter(f"cannot import {spec}: {exc}", param_hint="--model") from exc
    if not (isinstance(obj, type) and issubclass(obj, BaseModel)):
        raise click.BadParameter(f"{spec} is not a pydantic model class", param_hint="--model")
    return obj


def _tracker(
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
    with _errors():
        config = _load_config(config_file, flags)
        if metadata_model is None:
            return Tracker(config)
        return Tracker(config, metadata_model=metadata_model)


def _read_argument(value: str | None, what: str) -> str:
    if value is None or value == "-":
        if sys.stdin is None or (value is None and sys.stdin.isatty()):
            raise click.UsageError(f"give the {what} as an argument or on standard input")
        value = sys.stdin.read()
    text = value.strip()
    if not text:
        raise InputError(f"empty {what}")
    return text


# -- keygen ---------------------------------------------------------------------------


@main.command()
@click.option("--key-id", type=click.IntRange(0, 255), default=None, help="Id of the new key.")
@click.option(
    "--rotate",
    "rotate",
    metavar="KEYS",
    help="Print this ring with a new primary key added (old keys keep opening old links).",
)
def keygen(key_id: int | None, rotate: str | None) -> None:
    """Print a new key ring in its text form (keep it in TRACKCODEC_KEYS)."""
    with _errors():
        if rotate is not None:
            ring = KeyRing.from_string(rotate).rotate(key_id=key_id)
        else:
            ring = KeyRing.generate(0 if key_id is None else key_id)
    click.echo(ring.to_string())


# -- encode ---------------------------------------------------------------------------


@main.command()
@click.argument("payload", required=False)
@_settings_options
@click.option("--token", "token_only", is_flag=True, help="Print the token alone, not the URL.")
def encode(payload: str | None, token_only: bool, **settings: Any) -> None:
    """Encode PAYLOAD (JSON; '-' or nothing: standard input) to a tracking URL or token.

    PAYLOAD has the tracking layout: {"url": ..., "metadata": {...}, "webhook": ...},
    each optional; with a "url" it makes a click URL, else an open URL. Without
    a base URL (--base-url, or base_*_tracking_url settings) it prints the token.
    """
    text = _read_argument(payload, "payload")
    try:
        data = check_payload(json.loads(text), "payload")
    except ValueError as exc:
        message = str(exc) if isinstance(exc, PayloadFileError) else f"payload is not JSON: {exc}"
        raise InputError(message) from exc
    tracker = _tracker(**settings)
    url = data.get("url")
    with _errors():
        if "webhook" in data:
            tracker = tracker.with_overrides(webhook_url=data["webhook"], include_webhook_url=True)
        config = tracker.config
        base = config.base_click_tracking_url if url is not None else config.base_open_tracking_url
        bare = token_only or base is None
        if bare:
            tracker = tracker.with_overrides(
                base_open_tracking_url=_PLACEHOLDER_BASE,
                base_click_tracking_url=_PLACEHOLDER_BASE,
                token_param=None,
                append_slash=False,
            )
        try:
            made = (
                tracker.click_url(url, data.get("metadata"))
                if url is not None
                else tracker.open_url(data.get("metadata"))
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ConfigurationError):
                raise
            raise InputError(f"cannot encode the payload: {exc}") from exc
    click.echo(made[len(_PLACEHOLDER_BASE) :] if bare else made)


# -- decode ---------------------------------------------------------------------------


def _token_from(text: str, token_param: str | None) -> str:
    """The token in a full URL, a path, or the token itself."""
    if "/" not in text and "?" not in text:
        return text
    parts = urlsplit(text)
    if token_param is not None:
        values = parse_qs(parts.query).get(token_param)
        if values:
            return values[0].rstrip("/")  # append_slash puts "/" after the token
    segments = [s for s in parts.path.split("/") if s]
    if not segments:
        raise InputError("no token in that URL")
    return segments[-1]


def _decode_legacy(token: str, config: TrackingConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    plain = legacy.is_legacy_plain(token)
    mode = "plain" if plain else "fernet"
    if config.accept_legacy != mode:
        raise InputError(
            f"a pytracking {mode} token: set TRACKCODEC_ACCEPT_LEGACY={mode}"
            + ("" if plain else " and TRACKCODEC_LEGACY_FERNET_KEYS")
            + " to read it"
        )
    with _errors():
        if plain:
            data = legacy.decode_plain(token)
        else:
            keys = tuple(legacy.parse_fernet_key(k) for k in config.legacy_fernet_keys)
            data, _ = legacy.loads_fernet(token, keys, ttl=config.ttl)
    about = {
        "format": f"pytracking 0.2 ({mode})",
        "serializer": "json",
        "cipher": mode,
        "authenticated": not plain,
        "encrypted": not plain,
    }
    return data, about


@main.command()
@click.argument("token", required=False)
@_settings_options
@click.option("--explain", is_flag=True, help="Show where each byte of the token goes.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def decode(token: str | None, explain: bool, as_json: bool, **settings: Any) -> None:
    """Decode TOKEN (a token or a full tracking URL; '-' or nothing: standard input).

    Prints the header (format version, serializer, cipher, key id, issue
    time) and the payload as JSON. The keys come from --keys,
    TRACKCODEC_KEYS or the --config file.
    """
    text = _read_argument(token, "token")
    tracker = _tracker(**settings)
    config = tracker.config
    value = _token_from(text, config.token_param)
    head: TokenHeader | None = None
    if legacy.is_legacy_plain(value) or legacy.is_legacy_fernet(value):
        payload, about = _decode_legacy(value, config)
    else:
        with _errors():
            head = TokenHeader.parse(value)
        explained = explain_token(value, head, None, tracker.codec) if explain else []
        try:
            with _errors():
                info = tracker.codec.decode_token(value, max_age=config.ttl)
        except InputError:
            if explained:  # what can be read without the key is still worth showing
                click.echo("\n".join(explained))
            raise
        payload = info.payload
        about = {
            "format": f"trackcodec {info.version}",
            "serializer": info.serializer,
            "compressor": info.compressor,
            "cipher": info.cipher,
            "key_id": info.key_id,
            "issued_at": info.issued_at,
            "authenticated": info.authenticated,
            "encrypted": info.encrypted,
        }
    if as_json:
        click.echo(json.dumps({"header": about, "payload": payload}, indent=2, default=str))
    else:
        for name, value_ in about.items():
            if name == "issued_at":
                value_ = "not in the token" if value_ is None else when(value_)
            click.echo(f"{name.replace('_', ' ') + ':':15} {value_}")
        click.echo("payload:")
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
    if explain:
        if head is None:
            click.echo(
                "explain: a pytracking token is the urlsafe base64 of the JSON payload "
                "(with Fernet: of a Fernet token of it)"
            )
        else:
            click.echo("\n".join(explain_token(value, head, payload, tracker.codec)))


# -- rewrite --------------------------------------------------------------------------


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@_settings_options
@click.option("--metadata", metavar="JSON", help="JSON object put into every token.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=Path("-"),
    help="Where to write the result (default: standard output).",
)
def rewrite(file: Path, metadata: str | None, output: Path, **settings: Any) -> None:
    """Track the links of the HTML email FILE and add the open pixel ('-': standard input)."""
    meta: dict[str, Any] | None = None
    if metadata is not None:
        try:
            meta = json.loads(metadata)
        except ValueError as exc:
            raise InputError(f"--metadata is not JSON: {exc}") from exc
        if not isinstance(meta, dict):
            raise InputError("--metadata must be a JSON object")
    tracker = _tracker(**settings)
    if (
        tracker.config.base_click_tracking_url is None
        or tracker.config.base_open_tracking_url is None
    ):
        raise click.UsageError(
            "rewrite needs base URLs: --base-url or base_*_tracking_url settings"
        )
    try:
        html = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc}") from exc
    with _errors():
        try:
            out = rewrite_html(html, tracker, meta)
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ConfigurationError):
                raise
            raise InputError(str(exc)) from exc
    if str(output) == "-":
        click.echo(out, nl=False)
    else:
        output.write_text(out, encoding="utf-8")


# -- bench ----------------------------------------------------------------------------


def _split_requirements(values: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        for item in filter(None, (v.strip().lower() for v in value.split(","))):
            if item not in REQUIREMENTS:
                raise click.BadParameter(
                    f"{item!r} is not one of {', '.join(REQUIREMENTS)}", param_hint="--require"
                )
            out.append(item)
    return tuple(dict.fromkeys(out))


def _write(target: str, text: str, human: Console) -> None:
    if target == "-":
        click.echo(text, nl=False)
        return
    try:
        Path(target).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc}") from exc
    human.print(f"wrote {target}", highlight=False)


@main.command()
@click.option(
    "--payload",
    "payload_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON payload, a JSON object of named payloads, or JSON lines "
    "(default: the three reference payloads).",
)
@click.option("--base-url", default=None, help="Base URL the tokens are appended to.")
@click.option(
    "--only",
    multiple=True,
    metavar="KIND=NAMES",
    help="Measure only these, e.g. 'cipher=aes-siv,fernet;serializer=msgpack' (repeatable).",
)
@click.option(
    "--require",
    multiple=True,
    metavar="WHAT",
    help="encryption, authentication, expiry (comma-separated or repeated); "
    "authentication is always required of the recommendation.",
)
@click.option("--max-length", type=click.IntRange(min=1), help="Longest URL allowed (characters).")
@click.option(
    "--json", "json_file", metavar="FILE", help="Write the results as JSON ('-': stdout)."
)
@click.option("--markdown", "markdown_file", metavar="FILE", help="Write a Markdown report.")
@click.option("--csv", "csv_file", metavar="FILE", help="Write one CSV line per measurement.")
@click.option(
    "--plot",
    "plot_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Draw URL length against speed (.svg or .png; trackcodec[plot]).",
)
@click.option(
    "--sort", type=click.Choice(["name", "speed", "length"]), default="name", show_default=True
)
@click.option(
    "--repeat", type=click.IntRange(min=1), default=None, help="Timed rounds (default 9)."
)
@click.option("--quick", is_flag=True, help="A fast, rough run: 2 short rounds.")
@click.option("--no-references", is_flag=True, help="Skip pytracking and itsdangerous.")
def bench(
    payload_file: Path | None,
    base_url: str | None,
    only: tuple[str, ...],
    require: tuple[str, ...],
    max_length: int | None,
    json_file: str | None,
    markdown_file: str | None,
    csv_file: str | None,
    plot_file: Path | None,
    sort: str,
    repeat: int | None,
    quick: bool,
    no_references: bool,
) -> None:
    """Measure every serializer x compressor x cipher on your payloads, and recommend one.

    For each combination and payload: token and URL length, encode and decode
    time; pytracking (plain and Fernet) and itsdangerous are measured in the
    same run for comparison. The recommendation is the fastest combination
    that meets --require and --max-length, printed as settings to paste.
    """
    requirements = _split_requirements(require)
    filters: dict[str, tuple[str, ...]] = {}
    try:
        for spec in only:
            for kind, names in b.parse_only(spec).items():
                filters[kind] = tuple(dict.fromkeys((*filters.get(kind, ()), *names)))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--only") from exc
    settings: dict[str, Any] = {
        "serializers": filters.get("serializer"),
        "compressors": filters.get("compressor"),
        "ciphers": filters.get("cipher"),
        "timestamp": "expiry" in requirements,
        "references": not no_references,
    }
    if base_url is not None:
        settings["base_url"] = base_url
    if repeat is not None:
        settings["repeat"] = repeat
    try:
        options = b.BenchOptions.quick(**settings) if quick else b.BenchOptions(**settings)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    if plot_file is not None:
        if plot_file.suffix.lower().lstrip(".") not in b.PLOT_FORMATS:
            raise click.BadParameter("the plot is a .svg or .png file", param_hint="--plot")
        try:
            importlib.import_module("matplotlib")
        except ImportError as exc:
            raise InputError("--plot needs matplotlib: pip install 'trackcodec[plot]'") from exc

    try:
        workloads = b.load_payload_file(payload_file) if payload_file else b.reference_workloads()
    except b.PayloadFileError as exc:
        raise InputError(str(exc)) from exc

    to_stdout = "-" in (json_file, markdown_file, csv_file)
    out = Console(highlight=False, stderr=to_stdout, width=width())
    err = Console(stderr=True, highlight=False)
    try:
        result = run_with_progress(workloads, options, err)
    except b.BenchError as exc:
        raise InputError(str(exc)) from exc
    every_payload = [p for w in workloads for p in w.payloads]
    recommendation = b.recommend(
        result, requirements, max_length, model_source=b.model_source(every_payload)
    )

    if not to_stdout:
        print_report(result, recommendation, cast(b.SortKey, sort), out)
    if json_file:
        _write(json_file, b.to_json(result, recommendation), err)
    if markdown_file:
        _write(
            markdown_file, b.to_markdown(result, recommendation, sort=cast(b.SortKey, sort)), err
        )
    if csv_file:
        _write(csv_file, b.to_csv(result), err)
    if plot_file is not None:
        with _errors():
            b.plot(result, plot_file, recommendation)
        err.print(f"wrote {plot_file}", highlight=False)


# -- event store commands (trackcodec.stores) ------------------------------------------

from trackcodec.stores.cli import events as _events  # noqa: E402 - registered last

main.add_command(_events)
# One `events` group: the store's commands (export) and the webhook outbox's (deliver...).
for _name, _command in importlib.import_module("trackcodec.webhooks.cli").events.commands.items():
    _events.add_command(_command, _name)
main.add_command(importlib.import_module("trackcodec.server.cli").serve)
