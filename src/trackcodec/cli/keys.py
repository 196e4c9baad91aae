"""``trackcodec keygen``: make a key ring, or rotate one."""

from __future__ import annotations

import os
import sys

import click

from trackcodec.cli._common import InputError, errors
from trackcodec.keys import KeyRing

__all__ = ["keygen"]

_FROM_ENV_OR_STDIN = "-"


def _ring_to_rotate(value: str) -> str:
    """The ring text: given, or from TRACKCODEC_KEYS, or from standard input.

    On the command line a ring lands in shell history and ``ps``; the
    environment variable and standard input keep it out of both.
    """
    if value != _FROM_ENV_OR_STDIN:
        return value
    from_env = os.environ.get("TRACKCODEC_KEYS", "").strip()
    if from_env:
        return from_env
    if sys.stdin is None or sys.stdin.isatty():
        raise click.UsageError(
            "--rotate reads the ring from TRACKCODEC_KEYS or standard input; neither has it"
        )
    text = sys.stdin.read().strip()
    if not text:
        raise InputError("empty key ring on standard input")
    return text


@click.command()
@click.option("--key-id", type=click.IntRange(0, 255), default=None, help="Id of the new key.")
@click.option(
    "--rotate",
    "rotate",
    metavar="[KEYS]",
    is_flag=False,
    flag_value=_FROM_ENV_OR_STDIN,
    default=None,
    help="Print the ring with a new primary key added (old keys keep opening old links). "
    "The ring comes from TRACKCODEC_KEYS or standard input (keeping it out of shell "
    "history); a ring given here also works.",
)
def keygen(key_id: int | None, rotate: str | None) -> None:
    """Print a new key ring in its text form (keep it in TRACKCODEC_KEYS)."""
    with errors():
        if rotate is not None:
            ring = KeyRing.from_string(_ring_to_rotate(rotate)).rotate(key_id=key_id)
        else:
            ring = KeyRing.generate(0 if key_id is None else key_id)
    click.echo(ring.to_string())
