"""``trackcodec encode`` and ``trackcodec decode``: one token at a time."""

from __future__ import annotations

import json
from typing import Any

import click

from trackcodec import legacy
from trackcodec.cli._common import (
    InputError,
    errors,
    read_argument,
    settings_options,
    tracker_from,
)
from trackcodec.cli._explain import explain as explain_token
from trackcodec.cli._explain import when
from trackcodec.errors import EncodeError
from trackcodec.payload import check_layout
from trackcodec.tracking import Tracker
from trackcodec.wire import TokenHeader

__all__ = ["decode", "encode"]

_PLACEHOLDER_BASE = "https://token.invalid/"


@click.command()
@click.argument("payload", required=False)
@settings_options
@click.option("--token", "token_only", is_flag=True, help="Print the token alone, not the URL.")
def encode(payload: str | None, token_only: bool, **settings: Any) -> None:
    """Encode PAYLOAD (JSON; '-' or nothing: standard input) to a tracking URL or token.

    PAYLOAD has the tracking layout: {"url": ..., "metadata": {...}, "webhook": ...},
    each optional; with a "url" it makes a click URL, else an open URL. Without
    a base URL (--base-url, or base_*_tracking_url settings) it prints the token.
    """
    text = read_argument(payload, "payload")
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise InputError(f"payload is not JSON: {exc}") from exc
    try:
        data = check_layout(obj)
    except ValueError as exc:
        raise InputError(f"payload: {exc}") from exc
    tracker = tracker_from(**settings)
    url = data.get("url")
    with errors():
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
        except (TypeError, EncodeError) as exc:
            raise InputError(f"cannot encode the payload: {exc}") from exc
    click.echo(made[len(_PLACEHOLDER_BASE) :] if bare else made)


def _decode_legacy(token: str, tracker: Tracker[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    plain = legacy.is_legacy_plain(token)
    mode = "plain" if plain else "fernet"
    if tracker.config.accept_legacy != mode:
        raise InputError(
            f"a pytracking {mode} token: set TRACKCODEC_ACCEPT_LEGACY={mode}"
            + ("" if plain else " and TRACKCODEC_LEGACY_FERNET_KEYS")
            + " to read it"
        )
    with errors():
        info = tracker.decode_token(token)
    about = {
        "format": f"pytracking 0.2 ({mode})",
        "serializer": info.serializer,
        "cipher": info.cipher,
        "authenticated": info.authenticated,
        "encrypted": info.encrypted,
    }
    return info.payload, about


@click.command()
@click.argument("token", required=False)
@settings_options
@click.option("--explain", is_flag=True, help="Show where each byte of the token goes.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def decode(token: str | None, explain: bool, as_json: bool, **settings: Any) -> None:
    """Decode TOKEN (a token or a full tracking URL; '-' or nothing: standard input).

    Prints the header (format version, serializer, cipher, key id, issue
    time) and the payload as JSON. The keys come from --keys,
    TRACKCODEC_KEYS or the --config file.
    """
    text = read_argument(token, "token")
    tracker = tracker_from(**settings)
    with errors():
        value = tracker.token_of(text)
    if not value:
        raise InputError("no token in that URL")
    head: TokenHeader | None = None
    if legacy.is_legacy_plain(value) or legacy.is_legacy_fernet(value):
        payload, about = _decode_legacy(value, tracker)
    else:
        with errors():
            head = TokenHeader.parse(value)
        try:
            with errors():
                info = tracker.decode_token(value)
        except InputError:
            if explain:  # what can be read without the key is still worth showing
                click.echo("\n".join(explain_token(value, head, None, tracker.codec)))
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
