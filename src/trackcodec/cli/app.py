"""The ``trackcodec`` command group, and the one place where its commands are registered.

Each command (or command group) lives in its own module of this package, or
in the package of the feature it drives, and is added here with
``main.add_command(...)``.
"""

from __future__ import annotations

import click

from trackcodec import __version__
from trackcodec.cli.bench import bench
from trackcodec.cli.events import events
from trackcodec.cli.keys import keygen
from trackcodec.cli.rewrite import rewrite
from trackcodec.cli.tokens import decode, encode
from trackcodec.cli.train_dict import train_dict
from trackcodec.server.cli import serve

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="trackcodec")
def main() -> None:
    """Compact, authenticated tokens for email open and click tracking.

    Settings come from flags, TRACKCODEC_* environment variables, or a TOML
    file (--config), flags first. Exit codes: 0 success, 1 invalid token or
    input, 2 usage.
    """


# -- registered commands: add new command groups here ----------------------------------
main.add_command(keygen)
main.add_command(encode)
main.add_command(decode)
main.add_command(rewrite)
main.add_command(bench)
main.add_command(events)
main.add_command(train_dict)
main.add_command(serve)
