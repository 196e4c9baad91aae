"""``trackcodec train-dict``: a zstd dictionary trained on your own payloads."""

from __future__ import annotations

from pathlib import Path

import click

from trackcodec.bench import PayloadFileError, load_payload_file
from trackcodec.cli._common import InputError
from trackcodec.errors import ConfigurationError, TrackcodecError
from trackcodec.registry import serializer_factory
from trackcodec.zstd import (
    ZstdDictCompressor,
    register_zstd_dictionary,
    train_zstd_dictionary,
)

__all__ = ["train_dict"]


@click.command("train-dict")
@click.argument("payloads", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the dictionary.",
)
@click.option(
    "--size",
    type=click.IntRange(256, 65536),
    default=2048,
    show_default=True,
    help="Largest dictionary size, in bytes.",
)
@click.option(
    "--serializer",
    "serializers",
    type=click.Choice(["msgpack", "json"]),
    multiple=True,
    help="The spelling(s) to train on: those your trackers use (default: both).",
)
@click.option(
    "--id",
    "dictionary_id",
    type=click.IntRange(128, 255),
    default=128,
    show_default=True,
    help="The id you will register it under (for the instructions printed).",
)
def train_dict(
    payloads: Path, output: Path, size: int, serializers: tuple[str, ...], dictionary_id: int
) -> None:
    """Train a zstd dictionary (for the zstd-dict compressor) on a file of your payloads.

    PAYLOADS holds payloads in the tracking layout ({"url": ..., "metadata":
    {...}}), one JSON object per line (or as `trackcodec bench --payload`
    reads them); a few thousand make a good dictionary. Needs
    trackcodec[zstd].
    """
    try:
        found = [p for workload in load_payload_file(payloads) for p in workload.payloads]
    except PayloadFileError as exc:
        raise InputError(str(exc)) from exc
    try:
        spellings = [serializer_factory(name)() for name in serializers or ("msgpack", "json")]
        samples = [serializer.dumps(p) for serializer in spellings for p in found]
        trained = train_zstd_dictionary(samples, size=size)
        # Check it the way trackers will use it, and measure it against the built-in one.
        register_zstd_dictionary(dictionary_id, trained)
        yours, builtin = ZstdDictCompressor(dictionary_id), ZstdDictCompressor()
    except ConfigurationError as exc:
        raise click.UsageError(str(exc)) from exc
    except (TrackcodecError, ValueError) as exc:
        raise InputError(str(exc)) from exc
    output.write_bytes(trained)
    raw = sum(map(len, samples))
    mine = sum(min(len(yours.compress(s)), len(s)) for s in samples)
    theirs = sum(min(len(builtin.compress(s)), len(s)) for s in samples)
    click.echo(f"wrote {output}: {len(trained)} bytes, trained on {len(samples)} samples")
    click.echo(
        f"these payloads, {raw} bytes: {mine} compressed with it, {theirs} with the built-in "
        "dictionary (measured on the training set: expect a little less on new payloads)"
    )
    click.echo(
        "\nRegister it in every process that makes or reads tokens, before the trackers:\n"
        "    from pathlib import Path\n"
        "    from trackcodec.zstd import ZstdDictCompressor, register_zstd_dictionary\n"
        f"    register_zstd_dictionary({dictionary_id}, Path({str(output)!r}).read_bytes())\n"
        f"    config = TrackingConfig(compressor=ZstdDictCompressor({dictionary_id}), ...)"
    )
