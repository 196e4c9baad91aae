"""``trackcodec bench``: choose settings by measuring them on your payloads."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, cast

import click
from rich.console import Console

from trackcodec import bench as b
from trackcodec.bench.terminal import print_report, run_with_progress, width
from trackcodec.cli._common import InputError, errors

__all__ = ["bench"]


def _split_requirements(values: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        for item in filter(None, (v.strip().lower() for v in value.split(","))):
            if item not in b.REQUIREMENTS:
                raise click.BadParameter(
                    f"{item!r} is not one of {', '.join(b.REQUIREMENTS)}", param_hint="--require"
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


@click.command()
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
    that meets --require and --max-length, printed as settings to paste; when
    none does, the closest ones are shown and the exit code is 1.
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
        with errors():
            b.plot(result, plot_file, recommendation)
        err.print(f"wrote {plot_file}", highlight=False)
    if recommendation.candidate is None:
        # Reports are written either way; the exit code tells scripts nothing fits.
        raise InputError(f"no combination meets the constraints: {recommendation.reason}")
