"""``trackcodec rewrite``: track the links of an HTML email and add the open pixel."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, cast, get_args

import click

from trackcodec.cli._common import InputError, errors, settings_options, tracker_from
from trackcodec.html import DEFAULT_PIXEL_MARKER, PixelPlacement, rewrite_html

__all__ = ["rewrite"]


def _utm_pairs(values: tuple[str, ...]) -> dict[str, str] | None:
    pairs: dict[str, str] = {}
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(
                f"{value!r} is not NAME=VALUE, e.g. utm_source=newsletter", param_hint="--utm"
            )
        pairs[name.strip()] = setting
    return pairs or None


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@settings_options
@click.option("--metadata", metavar="JSON", help="JSON object put into every token.")
@click.option(
    "--pixel",
    type=click.Choice(get_args(PixelPlacement)),
    default="bottom",
    show_default=True,
    help="Where the open pixel goes: before </body>, right after <body>, in place of "
    "the --pixel-marker, or nowhere.",
)
@click.option(
    "--pixel-marker",
    default=DEFAULT_PIXEL_MARKER,
    show_default=True,
    help="The text --pixel placeholder replaces.",
)
@click.option(
    "--utm",
    multiple=True,
    metavar="NAME=VALUE",
    help="Add this query parameter to every tracked link's target (repeatable).",
)
@click.option("--vml", is_flag=True, help="Also track the links of Outlook VML buttons.")
@click.option("--no-click-tracking", is_flag=True, help="Leave the links alone.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=Path("-"),
    help="Where to write the result (default: standard output).",
)
def rewrite(
    file: Path,
    metadata: str | None,
    pixel: str,
    pixel_marker: str,
    utm: tuple[str, ...],
    vml: bool,
    no_click_tracking: bool,
    output: Path,
    **settings: Any,
) -> None:
    """Track the links of the HTML email FILE and add the open pixel ('-': standard input)."""
    meta: dict[str, Any] | None = None
    if metadata is not None:
        try:
            meta = json.loads(metadata)
        except ValueError as exc:
            raise InputError(f"--metadata is not JSON: {exc}") from exc
        if not isinstance(meta, dict):
            raise InputError("--metadata must be a JSON object")
    utm_pairs = _utm_pairs(utm)
    tracker = tracker_from(**settings)
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
    try:
        with errors():
            out = rewrite_html(
                html,
                tracker,
                meta,
                click_tracking=not no_click_tracking,
                pixel=cast(PixelPlacement, pixel),
                pixel_marker=pixel_marker,
                utm=utm_pairs,
                vml=vml,
            )
    except (TypeError, ValueError) as exc:  # a charset, or metadata, rewrite_html refuses
        raise InputError(str(exc)) from exc
    if str(output) == "-":
        click.echo(out, nl=False)
    else:
        output.write_text(out, encoding="utf-8")
