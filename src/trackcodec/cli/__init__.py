"""The ``trackcodec`` command (``pip install 'trackcodec[cli]'``).

Commands: ``bench`` (choose settings by measuring them), ``keygen``,
``encode``, ``decode``, ``rewrite`` and ``train-dict``, one module each; `trackcodec.cli.app`
builds the group and is the one place where commands are registered. Settings
come from flags, from ``TRACKCODEC_*`` environment variables and from a TOML
file (``--config``), in that order of precedence.

Exit codes: 0 success; 1 invalid token or input (the message is on stderr);
2 usage (bad flags or settings, or the ``[cli]`` extra is missing).

This package imports click and rich; ``import trackcodec`` never imports it.
Without them, `main` prints the ``pip install`` line to run and exits 2.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["main"]

_CLI_PACKAGES = {"click": "click", "rich": "rich"}

try:
    from trackcodec.cli.app import main
except ModuleNotFoundError as exc:
    if (exc.name or "").partition(".")[0] not in _CLI_PACKAGES:
        raise
    _missing = exc.name

    def main(*args: Any, **kwargs: Any) -> None:  # type: ignore[misc]
        """Say which extra to install, and exit 2 as every missing extra does."""
        print(
            f"trackcodec: the command needs the {_missing!r} package: "
            "pip install 'trackcodec[cli]'",
            file=sys.stderr,
        )
        raise SystemExit(2)
